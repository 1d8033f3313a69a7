#include "edelivery/gzip.hpp"

#include <cctype>

#include <zlib.h>

#include <algorithm>
#include <vector>

#include "edelivery/edelivery_errc.hpp"

namespace bbgw::edelivery {

namespace {

error_code fail(std::string* detail, std::string_view why) {
  if (detail) *detail = std::string(why);
  return errc::decompression_failed;
}

}  // namespace

result<std::uint64_t> gunzip_stream(byte_range const& in,
                                    std::function<result<void>(std::span<char const>)> const& out,
                                    gunzip_limits const& limits, std::string* detail) {
  if (in.length < 18) return fail(detail, "not gzip data");
  std::uint64_t const limit = std::min<std::uint64_t>(
      limits.max_output_bytes,
      std::max<std::uint64_t>(limits.ratio_floor_bytes, in.length * limits.max_ratio));
  z_stream zs{};
  if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) return fail(detail, "zlib initialisation");
  struct end_guard {
    z_stream* zs;
    ~end_guard() { inflateEnd(zs); }
  } guard{&zs};
  std::vector<char> input(std::min<std::uint64_t>(in.length, 256 * 1024));
  std::vector<char> output(256 * 1024);
  std::uint64_t read = 0, produced_total = 0;
  bool first = true;
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    if (zs.avail_in == 0) {
      if (read == in.length) return fail(detail, "truncated gzip data");
      auto want = static_cast<std::size_t>(std::min<std::uint64_t>(input.size(), in.length - read));
      auto n = in.source->read_at(in.offset + read, std::span<char>(input.data(), want));
      if (!n || *n != want) return errc::internal;
      if (first && (static_cast<unsigned char>(input[0]) != 0x1f ||
                    static_cast<unsigned char>(input[1]) != 0x8b))
        return fail(detail, "not gzip data");
      first = false;
      read += want;
      zs.next_in = reinterpret_cast<Bytef*>(input.data());
      zs.avail_in = static_cast<uInt>(want);
    }
    zs.next_out = reinterpret_cast<Bytef*>(output.data());
    zs.avail_out = static_cast<uInt>(output.size());
    rc = inflate(&zs, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR)
      return fail(detail, "corrupt gzip data");
    std::size_t produced = output.size() - zs.avail_out;
    if (rc == Z_BUF_ERROR && produced == 0 && zs.avail_in != 0)
      return fail(detail, "corrupt gzip data");
    if (produced_total + produced > limit)
      return fail(detail, produced_total + produced > limits.max_output_bytes
                              ? "decompressed size above the limit"
                              : "compression ratio above the limit");
    produced_total += produced;
    if (produced > 0)
      if (auto r = out(std::span<char const>(output.data(), produced)); !r) return r.error();
  }
  if (zs.avail_in != 0 || read != in.length) return fail(detail, "data after the gzip member");
  return produced_total;
}

result<std::string> gunzip(std::string_view compressed, gunzip_limits const& limits,
                           std::string* detail) {
  std::string out;
  auto n = gunzip_stream(
      byte_range{memory_view_source(compressed), 0, compressed.size()},
      [&](std::span<char const> b) -> result<void> {
        out.append(b.data(), b.size());
        return {};
      },
      limits, detail);
  if (!n) return n.error();
  return out;
}

result<std::uint64_t> gzip_stream(std::function<result<std::size_t>(std::span<char>)> const& in,
                                  std::function<result<void>(std::span<char const>)> const& out,
                                  int level) {
  z_stream zs{};
  if (deflateInit2(&zs, level, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    return errc::internal;
  std::vector<char> ibuf(256 * 1024), obuf(256 * 1024);
  int flush = Z_NO_FLUSH;
  result<std::uint64_t> total = std::uint64_t{0};
  while (flush != Z_FINISH) {
    auto n = in(ibuf);
    if (!n) {
      total = n.error();
      break;
    }
    flush = *n == 0 ? Z_FINISH : Z_NO_FLUSH;
    zs.next_in = reinterpret_cast<Bytef*>(ibuf.data());
    zs.avail_in = static_cast<uInt>(*n);
    do {
      zs.next_out = reinterpret_cast<Bytef*>(obuf.data());
      zs.avail_out = static_cast<uInt>(obuf.size());
      if (deflate(&zs, flush) == Z_STREAM_ERROR) {
        deflateEnd(&zs);
        return errc::internal;
      }
      std::size_t const produced = obuf.size() - zs.avail_out;
      if (produced == 0) continue;
      if (auto w = out({obuf.data(), produced}); !w) {
        deflateEnd(&zs);
        return w.error();
      }
      *total += produced;
    } while (zs.avail_out == 0);
  }
  deflateEnd(&zs);
  return total;
}

result<std::string> gzip(std::string_view plain, int level) {
  std::string out;
  auto n = gzip_stream(
      [&plain](std::span<char> buf) -> result<std::size_t> {
        std::size_t const k = std::min(buf.size(), plain.size());
        std::copy_n(plain.data(), k, buf.data());
        plain.remove_prefix(k);
        return k;
      },
      [&out](std::span<char const> bytes) -> result<void> {
        out.append(bytes.data(), bytes.size());
        return {};
      },
      level);
  if (!n) return n.error();
  return out;
}

bool compressed_media_type(std::string_view mime) {
  auto base = mime.substr(0, mime.find(';'));
  while (!base.empty() && base.back() == ' ') base.remove_suffix(1);
  std::string t(base);
  for (auto& c : t) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  static constexpr std::string_view exact[] = {"image/jpeg",
                                               "image/png",
                                               "image/gif",
                                               "image/webp",
                                               "image/avif",
                                               "image/heic",
                                               "image/jp2",
                                               "application/zip",
                                               "application/gzip",
                                               "application/x-gzip",
                                               "application/x-xz",
                                               "application/zstd",
                                               "application/x-bzip2",
                                               "application/x-7z-compressed",
                                               "application/vnd.rar",
                                               "audio/mpeg",
                                               "audio/ogg",
                                               "audio/aac",
                                               "audio/opus",
                                               "audio/webm",
                                               "audio/mp4"};
  for (auto e : exact)
    if (t == e) return true;
  static constexpr std::string_view prefixes[] = {"video/",
                                                  "application/vnd.openxmlformats-officedocument.",
                                                  "application/vnd.oasis.opendocument."};
  for (auto p : prefixes)
    if (t.starts_with(p)) return true;
  return false;
}

bool compresses_well(std::string_view sample, int level) {
  if (sample.empty()) return true;
  z_stream zs{};
  if (deflateInit2(&zs, level, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK) return true;
  std::vector<unsigned char> out(deflateBound(&zs, static_cast<uLong>(sample.size())));
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(sample.data()));
  zs.avail_in = static_cast<uInt>(sample.size());
  zs.next_out = out.data();
  zs.avail_out = static_cast<uInt>(out.size());
  int rc = deflate(&zs, Z_FINISH);
  auto produced = out.size() - zs.avail_out;
  deflateEnd(&zs);
  if (rc != Z_STREAM_END) return true;
  return produced * 10 < sample.size() * 9;
}

}  // namespace bbgw::edelivery
