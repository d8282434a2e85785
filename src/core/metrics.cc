#include "sie/metrics.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

namespace sie {

void Histogram::observe(double seconds) {
  auto it = std::lower_bound(kLatencyBounds.begin(), kLatencyBounds.end(), seconds);
  buckets_[static_cast<std::size_t>(it - kLatencyBounds.begin())].fetch_add(
      1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(seconds, std::memory_order_relaxed);
}

std::uint64_t Histogram::cumulative(std::size_t i) const {
  std::uint64_t total = 0;
  for (std::size_t b = 0; b <= i && b < buckets_.size(); ++b) {
    total += buckets_[b].load(std::memory_order_relaxed);
  }
  return total;
}

double Histogram::quantile(double q) const {
  std::uint64_t total = 0;
  std::array<std::uint64_t, kLatencyBounds.size() + 1> counts{};
  for (std::size_t b = 0; b < counts.size(); ++b) {
    counts[b] = buckets_[b].load(std::memory_order_relaxed);
    total += counts[b];
  }
  if (total == 0) return 0.0;
  const double rank = q * static_cast<double>(total);
  double seen = 0;
  for (std::size_t b = 0; b < counts.size(); ++b) {
    if (seen + static_cast<double>(counts[b]) >= rank && counts[b] > 0) {
      const double lo = b == 0 ? 0.0 : kLatencyBounds[b - 1];
      const double hi = b < kLatencyBounds.size() ? kLatencyBounds[b] : kLatencyBounds.back();
      return lo + (hi - lo) * ((rank - seen) / static_cast<double>(counts[b]));
    }
    seen += static_cast<double>(counts[b]);
  }
  return kLatencyBounds.back();
}

MetricsRegistry::Series& MetricsRegistry::series(std::string_view name, std::string_view help,
                                                 Kind kind, const Labels& labels) {
  std::lock_guard lock(mu_);
  auto it = families_.find(name);
  if (it == families_.end()) {
    it = families_.emplace(std::string(name), Family{kind, std::string(help), {}}).first;
  }
  Family& family = it->second;
  for (auto& s : family.series) {
    if (s->labels == labels) return *s;
  }
  auto s = std::make_unique<Series>();
  s->labels = labels;
  // A family keeps its first kind; a series asked for with another kind is a bug: it works but
  // is not rendered.
  switch (kind) {
    case Kind::kCounter: s->counter = std::make_unique<Counter>(); break;
    case Kind::kGauge: s->gauge = std::make_unique<Gauge>(); break;
    case Kind::kHistogram: s->histogram = std::make_unique<Histogram>(); break;
  }
  family.series.push_back(std::move(s));
  return *family.series.back();
}

Counter& MetricsRegistry::counter(std::string_view name, std::string_view help,
                                  const Labels& labels) {
  return *series(name, help, Kind::kCounter, labels).counter;
}

Gauge& MetricsRegistry::gauge(std::string_view name, std::string_view help, const Labels& labels) {
  return *series(name, help, Kind::kGauge, labels).gauge;
}

Histogram& MetricsRegistry::histogram(std::string_view name, std::string_view help,
                                      const Labels& labels) {
  return *series(name, help, Kind::kHistogram, labels).histogram;
}

namespace {

std::string escapeLabel(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

std::string renderLabels(const Labels& labels, std::string_view extra = {}) {
  if (labels.empty() && extra.empty()) return {};
  std::string out = "{";
  for (const auto& [k, v] : labels) {
    if (out.size() > 1) out += ',';
    out += fmt::format("{}=\"{}\"", k, escapeLabel(v));
  }
  if (!extra.empty()) {
    if (out.size() > 1) out += ',';
    out += extra;
  }
  return out + "}";
}

std::string number(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  return fmt::format("{}", v);
}

}  // namespace

std::string MetricsRegistry::render() const {
  std::lock_guard lock(mu_);
  std::string out;
  for (const auto& [name, family] : families_) {
    const char* type = family.kind == Kind::kCounter ? "counter"
                       : family.kind == Kind::kGauge ? "gauge"
                                                     : "histogram";
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, family.help, name, type);
    for (const auto& s : family.series) {
      if ((family.kind == Kind::kCounter && !s->counter) ||
          (family.kind == Kind::kGauge && !s->gauge) ||
          (family.kind == Kind::kHistogram && !s->histogram)) {
        continue;
      }
      switch (family.kind) {
        case Kind::kCounter:
          out += fmt::format("{}{} {}\n", name, renderLabels(s->labels), s->counter->value());
          break;
        case Kind::kGauge:
          out += fmt::format("{}{} {}\n", name, renderLabels(s->labels), number(s->gauge->value()));
          break;
        case Kind::kHistogram: {
          const Histogram& h = *s->histogram;
          for (std::size_t i = 0; i < Histogram::kLatencyBounds.size(); ++i) {
            out += fmt::format(
                "{}_bucket{} {}\n", name,
                renderLabels(s->labels, fmt::format("le=\"{}\"", Histogram::kLatencyBounds[i])),
                h.cumulative(i));
          }
          out += fmt::format("{}_bucket{} {}\n", name, renderLabels(s->labels, "le=\"+Inf\""),
                             h.count());
          out += fmt::format("{}_sum{} {}\n", name, renderLabels(s->labels), number(h.sum()));
          out += fmt::format("{}_count{} {}\n", name, renderLabels(s->labels), h.count());
          break;
        }
      }
    }
  }
  return out;
}

std::uint64_t MetricsRegistry::counterTotal(std::string_view name) const {
  std::lock_guard lock(mu_);
  auto it = families_.find(name);
  if (it == families_.end() || it->second.kind != Kind::kCounter) return 0;
  std::uint64_t total = 0;
  for (const auto& s : it->second.series) {
    if (s->counter) total += s->counter->value();
  }
  return total;
}

MetricsRegistry& metrics() {
  static auto* registry = new MetricsRegistry();  // outlives every thread that reports into it
  return *registry;
}

}  // namespace sie
