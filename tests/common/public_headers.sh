#!/bin/sh
# The installed API stands alone: `meson install` (devel + runtime files) into
# a temporary root, then every installed public header compiles with only the
# flags `pkg-config --cflags hicomex` gives (OpenCV's and the include dir: no
# LibTorch), and a program using them links with `pkg-config --libs hicomex`
# and runs. Usage: public_headers.sh BUILD_DIR
set -eu
build=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
meson install -C "$build" --destdir "$tmp/root" --tags devel,runtime --no-rebuild --quiet >/dev/null
pcdir=$(dirname "$(find "$tmp/root" -name hicomex.pc | head -n1)")
[ -f "$pcdir/hicomex.pc" ] || { echo "FAIL: no hicomex.pc installed"; exit 1; }
prefix=$(sed -n 's/^prefix=//p' "$pcdir/hicomex.pc")
# The file as installed, moved under the temporary root.
mkdir "$tmp/pc"
sed "s|^prefix=.*|prefix=$tmp/root$prefix|" "$pcdir/hicomex.pc" > "$tmp/pc/hicomex.pc"
export PKG_CONFIG_PATH="$tmp/pc${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
cflags=$(pkg-config --cflags hicomex)
libs=$(pkg-config --libs hicomex)
case "$cflags" in *torch*) echo "FAIL: pkg-config --cflags hicomex names LibTorch: $cflags"; exit 1 ;; esac
headers=$(cd "$tmp/root$prefix/include" && ls hicomex/*.h)
{
  for h in $headers; do printf '#include "%s"\n' "$h"; done
  printf 'int main() { hicomex::AnalyzerOptions o; return o.engine.weights.empty() ? 0 : 1; }\n'
} > "$tmp/all.cpp"
# shellcheck disable=SC2086
c++ -std=c++17 -Wall -Werror $cflags "$tmp/all.cpp" -o "$tmp/app" $libs \
  -Wl,-rpath,"$(dirname "$(find "$tmp/root" -name 'libhicomex.so' | head -n1)")"
"$tmp/app"
echo "ok: $(echo "$headers" | wc -w) installed public headers compile without LibTorch; a program links with pkg-config hicomex and runs"
