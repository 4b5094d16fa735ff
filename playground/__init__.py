"""The Streamlit playground: pages, state and chart builders over the `core` engine."""
