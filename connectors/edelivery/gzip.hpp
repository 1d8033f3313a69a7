#pragma once
// Bounded gunzip for AS4 payloads (CompressionType application/gzip). A gzip bomb is refused
// by an absolute output limit and a ratio limit (output / input), checked while inflating so
// memory never grows past the limit.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>

#include "bbgw/result.hpp"
#include "edelivery/byte_stream.hpp"

namespace bbgw::edelivery {

struct gunzip_limits {
  std::size_t max_output_bytes = 256 * 1024 * 1024;
  std::size_t max_ratio = 200;  // output may be at most 200 × the compressed size…
  std::size_t ratio_floor_bytes = 1024 * 1024;  // …once it is above this (tiny parts compress well)
};

// One gzip member (trailing garbage refused); errc::decompression_failed otherwise, with
// `detail` saying why.
result<std::string> gunzip(std::string_view compressed, gunzip_limits const& limits,
                           std::string* detail = nullptr);
// The same, streamed: `in` is read in chunks and the output handed to `out` as it is inflated
// (a payload file); returns the output size. Nothing beyond the limit is ever produced.
result<std::uint64_t> gunzip_stream(byte_range const& in,
                                    std::function<result<void>(std::span<char const>)> const& out,
                                    gunzip_limits const& limits, std::string* detail = nullptr);
// gzip for the sending side at zlib `level` (1 fastest … 9; -1 zlib's default, 6): `in` fills
// the buffer it is given (0 = end), `out` takes each compressed chunk; returns the compressed
// size.
result<std::uint64_t> gzip_stream(std::function<result<std::size_t>(std::span<char>)> const& in,
                                  std::function<result<void>(std::span<char const>)> const& out,
                                  int level = -1);
// The same in memory (small payloads, tests).
result<std::string> gzip(std::string_view plain, int level = -1);

// Whether gzip is worth it for a payload: false for MIME types that are compressed formats
// already (JPEG/PNG/GIF/WebP images, zip/gzip/xz/zstd/bzip2/7z archives, OOXML/ODF documents,
// video, compressed audio).
bool compressed_media_type(std::string_view mime_type);
// false when deflating `sample` (e.g. a payload's first MiB) at `level` saves less than 10 %.
bool compresses_well(std::string_view sample, int level);

}  // namespace bbgw::edelivery
