"""Words for the page: captions under the charts, the cells' equations, and the Learn page's ideas
and demos. Plain data and small pure functions; no Streamlit here."""
