# The hosted demo: one container per replica. Build: docker build -t rnn-playground .
# Run: docker run --rm -p 8501:8501 -e PLAYGROUND_MAX_TRAINING=2 rnn-playground
# Both defaults are what production uses; an offline builder overrides them (docs/deploy.md).
ARG PYTHON_IMAGE=python:3.11-slim
FROM ${PYTHON_IMAGE}
ARG TORCH_PIP_ARGS="--index-url https://download.pytorch.org/whl/cpu"

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    # One torch thread per training: N sessions share N cores fairly.
    OMP_NUM_THREADS=1 \
    MKL_NUM_THREADS=1

WORKDIR /app
COPY requirements.txt .
# The CPU wheel of torch keeps the image small; the pin in requirements.txt then matches it.
RUN pip install $TORCH_PIP_ARGS torch==2.13.0 \
 && pip install -r requirements.txt

COPY core ./core
COPY playground ./playground
COPY .streamlit ./.streamlit
# plotly.js from the plotly package into playground/static/ (served at /app/static/), now, while
# the folder is writable: the server runs as a user that cannot write there.
RUN python -m playground --assets-only

RUN useradd --create-home --uid 10001 playground
USER playground

EXPOSE 8501
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health', timeout=4)"

# = streamlit run playground/app.py, with PyTorch imported before the first visitor arrives.
CMD ["python", "-m", "playground", "--server.port=8501", "--server.address=0.0.0.0"]
