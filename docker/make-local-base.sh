#!/usr/bin/env bash
# Build a local stand-in for python:3.11-slim when Docker Hub cannot be reached.
#
# python:3.11-slim is Debian bookworm (minbase) with CPython 3.11 under /usr/local. This script
# makes the same from a Debian mirror and a CPython 3.11 already installed on this machine, and
# imports it as a Docker image. Run as root (debootstrap and chroot); needs debootstrap and a
# running docker daemon. Then build with:
#   docker build --build-arg PYTHON_IMAGE=local/python:3.11-slim ...   (see docs/deploy.md)
#
# Settings (environment):
#   PYTHON_PREFIX  CPython 3.11 install to copy (default: prefix of `python3.11` on PATH)
#   TAG            image name (default local/python:3.11-slim)
#   MIRROR         Debian mirror (default http://deb.debian.org/debian)
#   EXTRA_CA_CERT  PEM file of a TLS-intercepting proxy's CA. Only for networks that need it:
#                  it is added to the image's trust store and PIP_CERT points pip at that store,
#                  so the image (and images built on it) trust that CA. Never publish those.
#   KEEP_ROOTFS=1  keep the unpacked root filesystem (printed at the end)
set -euo pipefail

TAG=${TAG:-local/python:3.11-slim}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
PYTHON_PREFIX=${PYTHON_PREFIX:-$(python3.11 -c 'import sys; print(sys.base_prefix)')}
PY="$PYTHON_PREFIX/bin/python3.11"
[ -x "$PY" ] || { echo "no CPython 3.11 at $PYTHON_PREFIX" >&2; exit 1; }
PY_VERSION=$("$PY" -c 'import platform; print(platform.python_version())')

ROOTFS=$(mktemp -d /var/tmp/python311-slim.XXXXXX)
cleanup() { [ "${KEEP_ROOTFS:-0}" = 1 ] || rm -rf "$ROOTFS"; }
trap cleanup EXIT

# Debian bookworm minbase, plus what python:3.11-slim installs (ca-certificates, netbase,
# tzdata) and the runtime libraries of CPython's extension modules.
debootstrap --variant=minbase \
  --include=ca-certificates,netbase,tzdata,libssl3,libsqlite3-0,libffi8,zlib1g,libbz2-1.0,liblzma5,libreadline8,libncursesw6,libtinfo6,libgdbm6,libgdbm-compat4,libuuid1,libexpat1,libdb5.3,libnsl2,libtirpc3 \
  bookworm "$ROOTFS" "$MIRROR"

# CPython into /usr/local: the interpreter, its standard library and headers, but none of this
# machine's third-party packages, test suites, static library or bytecode (the slim image drops
# those too). pip and setuptools come from the bundled ensurepip wheels below.
mkdir -p "$ROOTFS/usr/local/bin" "$ROOTFS/usr/local/lib" "$ROOTFS/usr/local/include"
cp -a "$PYTHON_PREFIX"/bin/{2to3,2to3-3.11,idle,idle3,idle3.11,pydoc,pydoc3,pydoc3.11} \
      "$PYTHON_PREFIX"/bin/{python,python3,python3.11,python-config,python3-config,python3.11-config} \
      "$ROOTFS/usr/local/bin/"
cp -a "$PYTHON_PREFIX"/lib/libpython3* "$ROOTFS/usr/local/lib/"
cp -a "$PYTHON_PREFIX/include/python3.11" "$ROOTFS/usr/local/include/"
tar -C "$PYTHON_PREFIX/lib" -c --exclude='python3.11/site-packages/*' python3.11 \
  | tar -C "$ROOTFS/usr/local/lib" -x
# The same clean-up as the official image's Dockerfile.
find "$ROOTFS/usr/local" -depth \
  \( \( -type d -a \( -name test -o -name tests -o -name idle_test \) \) \
     -o \( -type f -a \( -name '*.pyc' -o -name '*.pyo' -o -name 'libpython*.a' \) \) \) \
  -exec rm -rf '{}' +
# Scripts, sysconfig data and pkg-config files name the old prefix: point them at /usr/local.
grep -rlI --null -F "$PYTHON_PREFIX" "$ROOTFS/usr/local/bin" "$ROOTFS/usr/local/lib" \
  | xargs -0 -r sed -i "s#$PYTHON_PREFIX#/usr/local#g"

# No pip configuration from the host: pip sees only its defaults and the image's environment.
rm -rf "$ROOTFS/etc/pip.conf" "$ROOTFS/etc/xdg/pip" "$ROOTFS/root/.config/pip" "$ROOTFS/root/.pip"

ENV_CHANGES=()
if [ -n "${EXTRA_CA_CERT:-}" ]; then
  cp "$EXTRA_CA_CERT" "$ROOTFS/usr/local/share/ca-certificates/extra-ca.crt"
  chroot "$ROOTFS" update-ca-certificates
  ENV_CHANGES+=(--change 'ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt')
fi

in_root() {
  env -i PATH=/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 HOME=/root \
    chroot "$ROOTFS" "$@"
}
in_root ldconfig
# Every shared library of the interpreter and its extension modules must resolve (_tkinter
# excepted: python:3.11-slim ships without Tk as well).
missing=$(in_root sh -c 'for f in /usr/local/bin/python3.11 /usr/local/lib/libpython3*.so* \
    /usr/local/lib/python3.11/lib-dynload/*.so; do ldd "$f" | sed "s#^#$f: #"; done' \
  | grep 'not found' | grep -v _tkinter || true)
[ -z "$missing" ] || { echo "unresolved libraries:"; echo "$missing"; exit 1; } >&2
in_root python3 -m ensurepip --default-pip
in_root sh -c 'find /usr/local -depth -name __pycache__ -exec rm -rf {} +'
in_root python -c 'import ssl, sqlite3, ctypes, zlib, bz2, lzma, readline, curses, uuid, dbm, hashlib, decimal, pyexpat'
in_root pip --version
rm -rf "$ROOTFS"/var/lib/apt/lists/* "$ROOTFS"/var/cache/apt/*.bin "$ROOTFS"/var/cache/apt/archives/*.deb

# The same environment and command as the official image.
tar -C "$ROOTFS" -c . | docker import \
  --change 'ENV PATH=/usr/local/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV LANG=C.UTF-8' \
  --change "ENV PYTHON_VERSION=$PY_VERSION" \
  "${ENV_CHANGES[@]}" \
  --change 'CMD ["python3"]' \
  - "$TAG"
docker run --rm "$TAG" sh -c 'python --version && python3 --version && pip --version && id -u'
[ "${KEEP_ROOTFS:-0}" = 1 ] && echo "root filesystem kept in $ROOTFS"
echo "built $TAG"
