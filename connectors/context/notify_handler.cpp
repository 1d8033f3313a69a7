#include "context/notify_handler.hpp"

#include <boost/json.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

#include "context/entity_event.hpp"
#include "context/normalise.hpp"
#include "context/sha256.hpp"

namespace bbgw::context {

namespace json = boost::json;

notify_handler::notify_handler(context_config const& cfg, store& db, clock const& time,
                               metrics& stats, logger& log)
    : cfg_(cfg),
      db_(db),
      time_(time),
      log_(log),
      legacy_until_(legacy_lookups_until(db, time.now(), cfg.dedupe_window)) {
  for (auto const& b : cfg_.brokers) {
    for (auto const& s : b.subscriptions) {
      metric_labels l{{"broker", b.name}, {"subscription", s.name}};
      auto with = [&](std::string outcome) {
        auto x = l;
        x.emplace_back("outcome", std::move(outcome));
        return x;
      };
      sub_metrics m{
          &stats.make_counter("bbgw_context_notifications_total",
                              "Notifications answered with success, by outcome", with("accepted")),
          &stats.make_counter("bbgw_context_notifications_total",
                              "Notifications answered with success, by outcome", with("duplicate")),
          &stats.make_counter("bbgw_context_entities_total", "Entity updates emitted as events",
                              l)};
      subs_.emplace(std::pair{b.name, s.name}, std::pair{std::pair{&b, &s}, m});
      dedupe_values_.emplace(std::pair{b.name, s.name}, b.name + "/" + s.name);
    }
  }
  for (auto e : {errc::unknown_subscription, errc::unauthorized, errc::unsupported_media_type,
                 errc::body_too_large, errc::too_many_entities, errc::malformed_json,
                 errc::invalid_notification, errc::invalid_entity, errc::store_failure})
    rejected_[e] = &stats.make_counter("bbgw_context_notifications_rejected_total",
                                       "Notifications refused, by reason",
                                       {{"reason", std::string(metric_reason(e))}});
}

sys_time notify_handler::legacy_lookups_until(store& db, sys_time now,
                                              std::chrono::nanoseconds window) {
  // A dedupe record in the pre-prefix form can only be unexpired within one window after start,
  // and only if the store held dedupe records at all when this gateway started (a store that
  // cannot tell is taken to hold some).
  auto held = db.may_hold(dedupe_namespace);
  if (held && !*held) return now;
  return now + std::chrono::duration_cast<sys_time::duration>(window);
}

response notify_handler::ngsi_error_response(errc e, std::string const& description) {
  return response::json(http_status(e),
                        json::object{{"error", ngsi_error(e)}, {"description", description}});
}

response notify_handler::reject(errc e, std::string const& description, request const& r,
                                broker_config const* b, subscription_config const* s) {
  rejected_.at(e)->inc();
  // Never the body or the token: only where it came from and why.
  log_.warn("context notification refused", {{"reason", std::string(metric_reason(e))},
                                             {"broker", b ? b->name : std::string{}},
                                             {"subscription", s ? s->name : std::string{}},
                                             {"request_id", r.request_id},
                                             {"remote", r.remote_address}});
  auto resp = ngsi_error_response(e, description);
  if (e == errc::unauthorized)
    resp.headers.set("WWW-Authenticate", "Bearer realm=\"bbgw-context\"");
  return resp;
}

std::variant<response, std::unique_ptr<notify_handler::prepared>> notify_handler::prepare(
    request const& r) {
  auto broker = r.param("broker");
  auto subscription = r.param("subscription");
  auto it = (broker && subscription)
                ? subs_.find(std::pair{std::string(*broker), std::string(*subscription)})
                : subs_.end();
  if (it == subs_.end())
    return reject(errc::unknown_subscription, "no such broker/subscription", r);
  auto const& b = *it->second.first.first;
  auto const& s = *it->second.first.second;
  auto const& m = it->second.second;

  // The token: a header, or ?token= in the notification URL (what brokers can be told to call).
  std::optional<std::string> token;
  if (auto h = r.header(token_header)) {
    token = std::string(*h);
  } else if (!r.query.empty()) {
    std::string const text = "?" + r.query;  // the view below points into it
    auto ref = boost::urls::parse_relative_ref(text);
    if (ref) {
      for (auto const& p : ref->params())  // percent-decoded
        if (p.key == "token" && p.has_value) {
          token = p.value;
          break;
        }
    }
  }
  if (!token || !constant_time_equals(*token, s.secret))
    return reject(errc::unauthorized, token ? "wrong notify token" : "missing notify token", r, &b,
                  &s);

  if (r.body.size() > cfg_.body_limit)
    return reject(errc::body_too_large,
                  "the body exceeds " + std::to_string(cfg_.body_limit) + " bytes", r, &b, &s);

  // A pooled buffer set: its scratch block is the first block of the notification's JSON arena.
  auto p = pool_.take();
  if (!p->scratch) p->scratch = std::make_unique<unsigned char[]>(prepared::scratch_size);
  std::string why;
  auto note = normalise(
      {b, s, r.headers, r.body, static_cast<std::size_t>(cfg_.max_entities_per_notification),
       std::span(p->scratch.get(), prepared::scratch_size)},
      why);
  if (!note) {
    pool_.give(std::move(p));
    return reject(static_cast<errc>(note.error().value()), why, r, &b, &s);
  }

  auto const now = time_.now();
  p->broker = &b;
  p->sub = &s;
  p->m = &m;
  p->dedupe_value = &dedupe_values_.find(it->first)->second;
  p->expires = now + std::chrono::duration_cast<sys_time::duration>(cfg_.dedupe_window);
  p->duplicate = false;

  // Serialise here: the events' bytes go into one buffer, recorded as offsets while it grows
  // and turned into views once it is complete. The events themselves (and the notification's
  // JSON arena) are freed on this thread when this function returns.
  struct span {
    std::size_t at = 0, size = 0;
  };
  struct offsets {
    span id, source, type, entity, family, json;  // entity id: the subject and partition key
  };
  auto& text = p->text;
  text.clear();
  auto append = [&text](std::string_view v) {
    span sp{text.size(), v.size()};
    text.append(v);
    return sp;
  };
  std::string const time = format_rfc3339(now);
  span const key = append(note->dedupe_key);
  span const time_at = append(time);
  // The same for every entity of the notification.
  std::string const source = entity_event_source(b.name, note->tenant);
  span const source_at = append(source);
  span const type_at = append(entity_updated_type);
  std::vector<offsets> at;  // small: freed here
  at.reserve(note->entities.size());
  for (auto const& u : note->entities) {
    offsets o;
    o.id = append(u.event_id);
    o.source = source_at;
    o.type = type_at;
    o.entity = append(u.id);
    o.family = append(expand_family(cfg_.family_template, b.name, s.name, note->tenant, u.type));
    o.json.at = text.size();
    append_structured_json(text, entity_event(u, source, r.request_id, now));
    o.json.size = text.size() - o.json.at;
    at.push_back(o);
  }
  std::string_view const all = text;
  auto view = [all](span sp) { return all.substr(sp.at, sp.size); };
  p->dedupe_key = view(key);
  p->legacy_key = note->dedupe_prefix_size > 0 && now < legacy_until_
                      ? p->dedupe_key.substr(note->dedupe_prefix_size)
                      : std::string_view{};
  p->events.clear();
  p->events.reserve(at.size());
  for (auto const& o : at)
    p->events.push_back(serialised_event{.id = view(o.id),
                                         .source = view(o.source),
                                         .type = view(o.type),
                                         .subject = view(o.entity),
                                         .partitionkey = view(o.entity),
                                         .family = view(o.family),
                                         .time = view(time_at),
                                         .json = view(o.json)});

  // The answer to a fresh notification, built here too (the store's thread only hands it on).
  p->accepted = response{};
  p->accepted.status = 204;
  p->accepted.headers.set("X-Bbgw-Context-Events", std::to_string(p->events.size()));
  return p;
}

result<void> notify_handler::store_work(prepared& p, unit_of_work& uow) {
  p.duplicate = false;
  if (!p.legacy_key.empty()) {
    auto earlier = uow.get(dedupe_namespace, p.legacy_key);
    if (!earlier) return earlier.error();
    if (*earlier) {
      p.duplicate = true;  // stored by an earlier gateway version: emit nothing
      return {};
    }
  }
  auto fresh = uow.insert(dedupe_namespace, p.dedupe_key, *p.dedupe_value, p.expires);
  if (!fresh) return fresh.error();
  if (!*fresh) {
    p.duplicate = true;  // already durable from an earlier delivery: emit nothing
    return {};
  }
  for (auto const& ev : p.events)
    if (auto e = uow.emit_serialised(ev); !e) return e.error();
  return {};
}

response notify_handler::finish(prepared& p, result<void> const& done, request const& r) {
  auto const& b = *p.broker;
  auto const& s = *p.sub;
  auto const& m = *p.m;
  if (!done) {
    log_.error("context notification not stored",
               {{"broker", b.name}, {"subscription", s.name}, {"error", done.error().message()}});
    return reject(errc::store_failure, "the notification could not be stored; retry", r, &b, &s);
  }
  response resp = std::move(p.accepted);
  if (p.duplicate) {
    m.duplicate->inc();
    resp.headers.set("X-Bbgw-Context-Duplicate", "true");
    resp.headers.set("X-Bbgw-Context-Events", "0");
  } else {
    m.accepted->inc();
    m.entities->inc(static_cast<double>(p.events.size()));
  }
  return resp;
}

response notify_handler::handle(request const& r) {
  auto v = prepare(r);
  if (auto* rejected = std::get_if<response>(&v)) return std::move(*rejected);
  auto p = std::get<std::unique_ptr<prepared>>(std::move(v));
  auto done = db_.transact([&](unit_of_work& uow) { return store_work(*p, uow); });
  auto resp = finish(*p, done, r);
  pool_.give(std::move(p));
  return resp;
}

void notify_handler::handle_async(request const& r, responder respond) {
  auto v = prepare(r);
  if (auto* rejected = std::get_if<response>(&v)) {
    respond(std::move(*rejected));
    return;
  }
  // The callbacks capture one raw pointer each, which std::function keeps inline: no allocation
  // per notification for them (the responder and the request ride in the pooled object). The
  // completion returns the buffers to the pool, exactly once.
  prepared* p = std::get<std::unique_ptr<prepared>>(std::move(v)).release();
  p->self = this;
  p->req = &r;
  p->respond = std::move(respond);
  db_.transact_async([p](unit_of_work& uow) { return store_work(*p, uow); },
                     [p](result<void> done) {
                       std::unique_ptr<prepared> owned(p);
                       auto* self = owned->self;
                       auto resp = self->finish(*owned, done, *owned->req);
                       auto reply = std::move(owned->respond);
                       owned->respond = nullptr;
                       owned->req = nullptr;
                       self->pool_.give(std::move(owned));
                       reply(std::move(resp));
                     });
}

std::unique_ptr<notify_handler::prepared> notify_handler::prepared_pool::take() {
  {
    std::lock_guard lock(mutex_);
    if (!free_.empty()) {
      auto p = std::move(free_.back());
      free_.pop_back();
      return p;
    }
  }
  return std::make_unique<prepared>();
}

void notify_handler::prepared_pool::give(std::unique_ptr<prepared> p) {
  // Bounded: a burst of large notifications does not keep its memory forever.
  constexpr std::size_t max_pooled = 256, max_text = 64 * 1024;
  if (p->text.capacity() > max_text) return;  // freed (rare: notifications of many entities)
  p->events.clear();
  p->dedupe_key = {};
  p->legacy_key = {};
  std::lock_guard lock(mutex_);
  if (free_.size() < max_pooled) free_.push_back(std::move(p));
}

std::size_t notify_handler::prepared_pool::size() {
  std::lock_guard lock(mutex_);
  return free_.size();
}

route notify_handler::make_route() {
  route rt;
  rt.methods = {"POST"};
  rt.pattern = cfg_.notify_path_prefix + "/{broker}/{subscription}";
  rt.handle_async = [this](request const& r, responder respond) {
    handle_async(r, std::move(respond));
  };
  rt.body_limit = static_cast<std::size_t>(cfg_.body_limit * 2);
  return rt;
}

}  // namespace bbgw::context
