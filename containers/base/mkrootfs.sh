#!/bin/sh
# Write the root filesystem of the xcache-harness base image as a tar, with mmdebstrap.
#
#   mkrootfs.sh SUITE MIRROR XROOTD_VERSION TARGET     TARGET "-" writes the tar to stdout
#
# By hand (no registry needed):
#   containers/base/mkrootfs.sh bookworm http://deb.debian.org/debian 5.5.3 - \
#       | docker import - xcache-harness/base:5.5.3
# harness/images.py runs this same script (with sh, so lost exec bits do not matter):
# the options live here only, and are part of the recipe hash that names the images.
set -eu
suite=$1 mirror=$2 xrootd=$3 target=$4
here=$(cd "$(dirname "$0")" && pwd)
packages=$(sed 's/#.*//' "$here/packages.txt" | tr -s ' \t\n' ',' | sed 's/^,//; s/,$//')

# A fixed timestamp (not taken from the environment) makes two builds from the same
# mirror state give the same tar.
SOURCE_DATE_EPOCH=1700000000
export SOURCE_DATE_EPOCH

# path-exclude keeps docs, man pages, locales and info out of the image;
# copyright files stay, as in debian:*-slim.
# customize.sh removes the host's resolv.conf/hostname and checks the XRootD version.
exec mmdebstrap --variant=apt --include="$packages" \
    --dpkgopt='path-exclude=/usr/share/man/*' \
    --dpkgopt='path-exclude=/usr/share/info/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' \
    --dpkgopt='path-include=/usr/share/locale/locale.alias' \
    --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    --customize-hook="sh \"$here/customize.sh\" \"\$1\" $xrootd" \
    "$suite" "$target" "deb $mirror $suite main"
