// Sparkplug B host logic, free of MQTT so it can be tested and fuzzed: it follows each edge
// node's session (NBIRTH/DBIRTH metric definitions and aliases, NDATA/DDATA values, NDEATH/DDEATH,
// the 0..255 sequence numbers) and turns frames into readings.
//
//   topic      spBv1.0/<group>/<type>/<edge node>[/<device>]
//   sensor id  the `node_sensor` / `device_sensor` templates over {group} {node} {device} {metric}
//   time       the metric's timestamp, else the payload's (ms), else the receive time
//
// Deaths mark the metrics of the node (or device) stale: one reading of the last value with
// quality bad and the flag "stale: ...", stamped with the receive time or, when the edge node's
// clock runs ahead of ours, just after the metric's last reading, so it always lands in order. A
// sequence gap, data from a node that was never born, or an unknown alias asks for a rebirth (the
// caller sends NCMD "Node Control/Rebirth").
//
// A Template metric (a UDT instance) becomes one metric per numeric member, named
// "<metric>/<member>" (nested templates add a level each, up to 16); a template definition (in a
// birth) is not a value. A DataSet metric is refused with its name and shape: a table has no one
// value per sensor.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "sie/event.h"

namespace org::eclipse::tahu::protobuf {
class Payload_Metric;
class Payload_Template;
}  // namespace org::eclipse::tahu::protobuf

namespace sie::sparkplug {

struct Topic {
  std::string_view group;
  std::string_view type;  // NBIRTH, NDATA, NDEATH, DBIRTH, DDATA, DDEATH, NCMD, DCMD
  std::string_view node;
  std::string_view device;  // "" for node messages
};

// nullopt when `topic` is not in the Sparkplug B namespace or is malformed.
std::optional<Topic> parseTopic(std::string_view topic);

struct Outcome {
  std::vector<Telemetry> readings;
  std::vector<std::string> errors;  // specific, for the dead-letter store
  std::size_t skipped = 0;          // metrics without a number (strings, bytes, nulls)
  bool rebirth = false;             // ask this edge node to publish its births again
};

class Sessions {
 public:
  Sessions(std::string node_sensor = "{group}/{node}/{metric}",
           std::string device_sensor = "{group}/{node}/{device}/{metric}");

  // Handles one frame; appends to `out`.
  void handle(const Topic& topic, std::string_view payload, std::int64_t received_ns, Outcome& out);

 private:
  struct Metric {
    std::string name;
    std::uint32_t datatype = 0;
    Symbol sensor;
    std::optional<double> last;
    std::int64_t last_ns = 0;  // the newest reading's timestamp (the edge node's clock)
  };
  struct Metrics {
    std::vector<Metric> list;
    std::unordered_map<std::uint64_t, std::size_t> by_alias;
    std::unordered_map<std::string, std::size_t> by_name;
  };
  struct Node {
    bool born = false;
    int seq = -1;  // the last sequence number seen
    std::optional<std::uint64_t> bd_seq;
    Metrics metrics;
    std::map<std::string, Metrics, std::less<>> devices;
  };

  Node& node(const Topic& topic);
  Symbol sensorFor(const Topic& topic, std::string_view metric) const;
  bool checkSeq(Node& node, const Topic& topic, bool has_seq, std::uint64_t seq, Outcome& out);
  void markStale(Metrics& metrics, std::string_view why, std::int64_t ts_ns, Outcome& out);
  // One metric's reading: its value (its quality property lowering it) or, for a null of a
  // numeric type, a bad reading without one. False (nothing recorded) for anything else.
  bool record(Metric& metric, const org::eclipse::tahu::protobuf::Payload_Metric& m,
              std::optional<double> value, std::uint32_t datatype, std::int64_t ts_ns,
              Outcome& out);
  // A template instance's members as metrics of their own, "<metric>/<member>" (nested
  // templates one level further each), at the template's timestamp unless a member has its own.
  // `path` is a copy: adding a member may move the metric whose name it is.
  void decodeTemplate(const Topic& topic, Metrics& metrics, std::string path,
                      const org::eclipse::tahu::protobuf::Payload_Template& value,
                      std::int64_t ts_ns, int depth, Outcome& out);

  std::string node_sensor_;
  std::string device_sensor_;
  std::map<std::string, Node, std::less<>> nodes_;  // by "<group>/<node>"
};

}  // namespace sie::sparkplug
