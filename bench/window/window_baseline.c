/* The practical limit of a windowed function over MQTT on this machine: a minimal libmosquitto
 * program, one thread, no gateway, no state on disk. For every reading on bench/in/s<i> it
 * computes the z-score of the value against the sensor's previous WINDOW readings (sample
 * standard deviation; unscored below 10 of them, as sie's builtin zscore), publishes
 * {"ts_ns","score","anomaly","label","t0"} to bench/out/s<i> on the same connection, then adds the
 * value to the sensor's window.
 *
 *   window_baseline PORT QOS [WINDOW] */
#include <math.h>
#include <mosquitto.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { kMaxWindow = 4096, kMinSamples = 10 };

struct Window {
  double* values; /* `window` of them, oldest overwritten first */
  int next;       /* where the next value goes */
  int count;      /* how many are held */
};

static volatile sig_atomic_t stop = 0;
static int qos = 0;
static int window = 64;
static struct Window* windows = NULL; /* by sensor index */
static int sensors = 0;

static void on_stop(int sig) {
  (void)sig;
  stop = 1;
}

/* The text after "key": in a flat JSON object, or NULL. */
static const char* field(const char* json, const char* key) {
  const char* at = strstr(json, key);
  if (!at) return NULL;
  at = strchr(at + strlen(key), ':');
  return at ? at + 1 : NULL;
}

static struct Window* window_of(int sensor) {
  if (sensor < 0) return NULL;
  if (sensor >= sensors) {
    const int grown = sensor + 1 > 2 * sensors ? sensor + 1 : 2 * sensors;
    struct Window* more = realloc(windows, (size_t)grown * sizeof *windows);
    if (!more) return NULL;
    memset(more + sensors, 0, (size_t)(grown - sensors) * sizeof *windows);
    windows = more;
    sensors = grown;
  }
  struct Window* w = &windows[sensor];
  if (!w->values) w->values = malloc((size_t)window * sizeof *w->values);
  return w->values ? w : NULL;
}

static void on_connect(struct mosquitto* m, void* obj, int rc) {
  (void)obj;
  if (rc == 0) mosquitto_subscribe(m, NULL, "bench/in/+", qos);
}

static void on_message(struct mosquitto* m, void* obj, const struct mosquitto_message* msg) {
  (void)obj;
  char payload[512];
  char topic[256];
  char out[256];
  if (msg->payloadlen <= 0 || msg->payloadlen >= (int)sizeof payload) return;
  memcpy(payload, msg->payload, (size_t)msg->payloadlen);
  payload[msg->payloadlen] = '\0';
  const char* value = field(payload, "\"value\"");
  const char* ts = field(payload, "\"ts\"");
  const char* t0 = field(payload, "\"t0\"");
  const char* name = strrchr(msg->topic, '/');
  if (!value || !ts || !t0 || !name || name[1] != 's') return;
  struct Window* w = window_of(atoi(name + 2));
  if (!w) return;
  const double x = strtod(value, NULL);

  char score[32] = "0";
  const char* label = "warming-up";
  int anomaly = 0;
  if (w->count >= kMinSamples) {
    /* Sums shifted by the oldest value: one pass, no cancellation far from zero. */
    const int first = (w->next - w->count + window) % window;
    const double shift = w->values[first];
    double sum = 0.0;
    double sum_sq = 0.0;
    for (int i = 0; i < w->count; ++i) {
      const double d = w->values[(first + i) % window] - shift;
      sum += d;
      sum_sq += d * d;
    }
    const double n = (double)w->count;
    const double mean = shift + sum / n;
    double var = (sum_sq - sum * sum / n) / (n - 1);
    if (var < 0) var = 0;
    double std_dev = sqrt(var);
    if (std_dev < 1e-9) std_dev = 1e-9;
    const double z = (x - mean) / std_dev;
    anomaly = fabs(z) > 3.0;
    label = !anomaly ? "normal" : z > 0 ? "spike" : "dip";
    snprintf(score, sizeof score, "%.17g", fabs(z));
  }
  w->values[w->next] = x;
  w->next = (w->next + 1) % window;
  if (w->count < window) ++w->count;

  snprintf(topic, sizeof topic, "bench/out/%s", name + 1);
  const int n = snprintf(
      out, sizeof out, "{\"ts_ns\":%lld,\"score\":%s,\"anomaly\":%s,\"label\":\"%s\",\"t0\":%lld}",
      strtoll(ts, NULL, 10), score, anomaly ? "true" : "false", label, strtoll(t0, NULL, 10));
  mosquitto_publish(m, NULL, topic, n, out, qos, false);
}

int main(int argc, char** argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: window_baseline PORT QOS [WINDOW]\n");
    return 2;
  }
  qos = atoi(argv[2]);
  if (argc > 3) window = atoi(argv[3]);
  if (window < 2 || window > kMaxWindow) {
    fprintf(stderr, "WINDOW must be 2..%d\n", kMaxWindow);
    return 2;
  }
  signal(SIGINT, on_stop);
  signal(SIGTERM, on_stop);
  mosquitto_lib_init();
  struct mosquitto* m = mosquitto_new("bench-window-baseline", 1, NULL);
  mosquitto_int_option(m, MOSQ_OPT_TCP_NODELAY, 1);
  mosquitto_max_inflight_messages_set(m, 0);
  mosquitto_connect_callback_set(m, on_connect);
  mosquitto_message_callback_set(m, on_message);
  if (mosquitto_connect(m, "127.0.0.1", atoi(argv[1]), 30) != MOSQ_ERR_SUCCESS) {
    fprintf(stderr, "cannot connect\n");
    return 1;
  }
  while (!stop) mosquitto_loop(m, 100, 1);
  mosquitto_destroy(m);
  mosquitto_lib_cleanup();
  for (int i = 0; i < sensors; ++i) free(windows[i].values);
  free(windows);
  return 0;
}
