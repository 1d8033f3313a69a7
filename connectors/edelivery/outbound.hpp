#pragma once
// Building an AS4 user message to send (compress → sign → encrypt, as the profile orders it) and
// checking the receipt that comes back against the references we signed (EBMS:0302 otherwise).
// Payloads may be in memory or in files; the message may be built in memory or streamed into a
// file (gzip, the signature's attachment digests and AES-128-GCM all run chunk by chunk), so a
// large payload never sits in memory on the sending side.
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "bbgw/clock.hpp"
#include "bbgw/result.hpp"
#include "edelivery/ebms.hpp"
#include "edelivery/inbound.hpp"
#include "xmlsec/key.hpp"

namespace bbgw::edelivery {

struct outbound_payload {
  std::string content_id;  // without cid:
  std::string mime_type;
  std::string data;
  bool compress = true;
  std::string file;  // when set, the payload's bytes are read (streamed) from it; `data` unused
  int compression_level = -1;  // zlib level (1 fastest … 9; -1 zlib's default, 6)
  // With `compress`: gzip only when it pays (the profile makes compression optional, receivers
  // accept both): not for compressed MIME types, nor when the first MiB shrinks by < 10 %.
  bool only_if_it_pays = false;
  // The SHA-256 (32 raw bytes) of `file` when the caller already has it (the submission computed
  // it): sent uncompressed, the part's signature digest is then taken from it instead of reading
  // the file again. Bytes changed on disk since then no longer match the signature, so the
  // receiver refuses them rather than accepting what was never submitted.
  std::string sha256;
};

struct outbound_spec {
  user_message header;  // MessageInfo, PartyInfo, CollaborationInfo, MessageProperties
  std::vector<outbound_payload> payloads;
  xmlsec::key const* signing_key = nullptr;  // ours (required)
  xmlsec::key const* recipient = nullptr;    // the partner's certificate; null = no encryption
};

struct sent_reference {
  std::string uri;
  std::string digest_method;
  std::string digest_value;  // raw bytes
};

struct outbound_message {
  std::string content_type;  // multipart/related; type="application/soap+xml"; boundary=…
  std::string body;          // empty when built into a file
  std::string body_file;     // set by build_user_message_file: the MIME body is there
  std::uint64_t size = 0;    // of the MIME body
  std::vector<sent_reference> references;  // what the receipt must acknowledge
  std::vector<bool> compressed;            // per payload: sent gzip-compressed
};

result<outbound_message> build_user_message(outbound_spec const& spec,
                                            std::string* detail = nullptr);
// The same, streamed into `body_file`: written as `body_file.partial` (compressed payloads
// staged beside it as `body_file.z<n>.partial`, removed) and renamed to `body_file`, so a crash
// leaves only temporary names. Not synced: the caller makes it durable (sync_file, then
// sync_directory) when it matters, e.g. while or after it is sent. On failure nothing is left.
// What build_user_message_file also does while it writes the file (a message sent while it is
// built): `head` gets the message — Content-Type, references, no body — before its first byte
// is written; `write` each piece as it goes to the file (false: no more calls; the file is
// still completed). `cancelled`, asked before each piece, stops the build when it says true
// (gateway shutdown): a failure, and nothing is left.
struct message_tee {
  std::function<void(outbound_message const&)> head;
  std::function<bool(std::string_view)> write;
  std::function<bool()> cancelled;
};
result<outbound_message> build_user_message_file(outbound_spec const& spec,
                                                 std::string const& body_file,
                                                 std::string* detail = nullptr,
                                                 message_tee* tee = nullptr);

// `receipt` is the verified signal (receive() with the partner's certificate). Every reference
// we sent must appear in its NonRepudiationInformation with the same URI and digest, and it
// must refer to `message_id`; otherwise errc::receipt_invalid (EBMS:0302).
result<void> check_receipt(inbound_message const& receipt, std::string const& message_id,
                           std::vector<sent_reference> const& sent, std::string* detail = nullptr);

}  // namespace bbgw::edelivery
