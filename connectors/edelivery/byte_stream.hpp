#pragma once
// Bytes that may be larger than memory: a received AS4 body (the HTTP server's spool file), the
// parts located inside it by offset, and what the receiver produces from them (decoded,
// decrypted, decompressed parts). Sources are read by offset, sinks are written once in order;
// both exist in memory (small messages, receipts, tests) and as files (the receive route), so
// one code path serves both and never needs a whole part in memory.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include <openssl/evp.h>

#include "bbgw/result.hpp"
#include "xmlsec/parts.hpp"

namespace bbgw::edelivery {

class byte_source {
 public:
  virtual ~byte_source() = default;
  virtual std::uint64_t size() const = 0;
  // Fills `buffer` from `offset`; fewer bytes only at the end (0 at or past it).
  virtual result<std::size_t> read_at(std::uint64_t offset, std::span<char> buffer) const = 0;
};
using source_ptr = std::shared_ptr<byte_source const>;

source_ptr memory_source(std::string data);
// The caller keeps `data` alive as long as the source.
source_ptr memory_view_source(std::string_view data);
// A regular file opened read-only (errc::internal when it cannot be opened).
result<source_ptr> open_file_source(std::string const& path);

// Where a part's octets are: a slice of a source.
struct byte_range {
  source_ptr source;
  std::uint64_t offset = 0;
  std::uint64_t length = 0;
};

// Reads a whole range into memory; `too_big` when it is longer than `limit`.
result<std::string> read_all(byte_range const& r, std::size_t limit, error_code too_big);
// Calls `fn` with consecutive chunks (at most 256 KiB) of the range.
result<void> for_each_chunk(byte_range const& r,
                            std::function<result<void>(std::span<char const>)> const& fn);
// A buffered stream over a range for xmlsec's cid: resolver (which asks for 1 KiB at a time).
std::unique_ptr<xmlsec::part_reader> range_reader(byte_range r);

class byte_sink {
 public:
  virtual ~byte_sink() = default;
  virtual result<void> write(std::span<char const> bytes) = 0;
  // Completes the output (flushed, and synced when durable) and returns it for reading.
  virtual result<source_ptr> finish() = 0;
  // The file it writes (empty for memory sinks and anonymous scratch files).
  virtual std::string const& path() const = 0;
};

// Where the receiver puts the bytes it produces. `scratch` outputs (base64-decoded and
// decrypted parts) live only while the message is processed; payloads are kept (`name` is
// their file name, and they are synced to disk before finish() returns).
class sink_factory {
 public:
  virtual ~sink_factory() = default;
  virtual result<std::unique_ptr<byte_sink>> scratch() = 0;
  virtual result<std::unique_ptr<byte_sink>> payload(std::string const& name) = 0;
  // Keeps a finished scratch output as the payload `name` without copying it (an anonymous
  // file is linked into the directory and synced); returns its path. Fails (the caller then
  // copies) when `scratch` is not such a file, e.g. in memory.
  virtual result<std::string> adopt(source_ptr const& scratch, std::string const& name) = 0;
};

// Everything in memory (payload sinks report an empty path).
std::unique_ptr<sink_factory> memory_sinks();
// Files in `dir` (which must exist): scratch outputs are anonymous (unlinked at once, so a
// crash or a refusal leaves nothing behind), payloads are `dir/name`, created exclusively.
std::unique_ptr<sink_factory> directory_sinks(std::string dir);

// SHA-256 computed on the way (payload descriptors).
class sha256_stream {
 public:
  sha256_stream();
  ~sha256_stream();
  sha256_stream(sha256_stream const&) = delete;
  sha256_stream& operator=(sha256_stream const&) = delete;
  void update(std::span<char const> bytes);
  std::string hex_digest();  // ends the stream

 private:
  EVP_MD_CTX* ctx_;
};

}  // namespace bbgw::edelivery
