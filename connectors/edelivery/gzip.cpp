#include "edelivery/gzip.hpp"

#include <zlib.h>

#include <algorithm>

#include "edelivery/edelivery_errc.hpp"

namespace bbgw::edelivery {

namespace {

error_code fail(std::string* detail, std::string_view why) {
  if (detail) *detail = std::string(why);
  return errc::decompression_failed;
}

}  // namespace

result<std::string> gunzip(std::string_view compressed, gunzip_limits const& limits,
                           std::string* detail) {
  if (compressed.size() < 18 || static_cast<unsigned char>(compressed[0]) != 0x1f ||
      static_cast<unsigned char>(compressed[1]) != 0x8b)
    return fail(detail, "not gzip data");
  std::size_t const limit = std::min<std::size_t>(
      limits.max_output_bytes,
      std::max(limits.ratio_floor_bytes, compressed.size() * limits.max_ratio));
  z_stream zs{};
  if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) return fail(detail, "zlib initialisation");
  std::string out;
  char buffer[64 * 1024];
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(compressed.data()));
  zs.avail_in = static_cast<uInt>(compressed.size());
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    zs.next_out = reinterpret_cast<Bytef*>(buffer);
    zs.avail_out = sizeof buffer;
    rc = inflate(&zs, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) {
      inflateEnd(&zs);
      return fail(detail, rc == Z_BUF_ERROR ? "truncated gzip data" : "corrupt gzip data");
    }
    std::size_t produced = sizeof buffer - zs.avail_out;
    if (out.size() + produced > limit) {
      inflateEnd(&zs);
      return fail(detail, out.size() + produced > limits.max_output_bytes
                              ? "decompressed size above the limit"
                              : "compression ratio above the limit");
    }
    out.append(buffer, produced);
  }
  bool trailing = zs.avail_in != 0;
  inflateEnd(&zs);
  if (trailing) return fail(detail, "data after the gzip member");
  return out;
}

result<std::string> gzip(std::string_view plain) {
  z_stream zs{};
  if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) !=
      Z_OK)
    return errc::internal;
  std::string out(deflateBound(&zs, plain.size()) + 32, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(plain.data()));
  zs.avail_in = static_cast<uInt>(plain.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  int rc = deflate(&zs, Z_FINISH);
  deflateEnd(&zs);
  if (rc != Z_STREAM_END) return errc::internal;
  out.resize(zs.total_out);
  return out;
}

}  // namespace bbgw::edelivery
