#!/bin/sh
# mmdebstrap customize hook: customize.sh ROOT EXPECTED_XROOTD_VERSION
set -eu
root=$1 expected=$2

# mmdebstrap copies the build host's resolv.conf and hostname into the tree; Docker
# provides both at run time, and the host's must not leak into the image.
rm -f "$root/etc/resolv.conf" "$root/etc/hostname"

# The image tag promises an XRootD version; a suite that moved on (a point release,
# a snapshot mirror) must fail the build instead of producing a mislabelled image.
# The host's dpkg-query reads the tree's database, so this works in every mmdebstrap mode.
got=$(dpkg-query --admindir="$root/var/lib/dpkg" -W -f '${Version}' xrootd-server)
echo "I: xrootd-server $got"
case $got in
    "$expected"-* | "$expected"+* | "$expected") ;;
    *) echo "E: xrootd-server is $got, this recipe is for XRootD $expected" >&2; exit 1 ;;
esac
