/* The practical limit of MQTT in -> decide -> MQTT out on this machine: a minimal libmosquitto
 * program with no gateway, no state and no durability. It subscribes to bench/in/+, reads the
 * "value" of each JSON message, applies a fixed threshold and publishes a small decision that
 * echoes "t0" to bench/out/<sensor>, on its own connection, from libmosquitto's network thread.
 *
 *   mqtt_baseline PORT QOS */
#include <mosquitto.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static volatile sig_atomic_t stop = 0;
static int qos = 0;

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
  const char* t0 = field(payload, "\"t0\"");
  if (!value || !t0) return;
  const double v = strtod(value, NULL);
  const long long start = strtoll(t0, NULL, 10);
  const char* sensor = strrchr(msg->topic, '/');
  snprintf(topic, sizeof topic, "bench/out/%s", sensor ? sensor + 1 : msg->topic);
  const int n =
      snprintf(out, sizeof out, "{\"anomaly\":%s,\"t0\":%lld}", v > 80 ? "true" : "false", start);
  mosquitto_publish(m, NULL, topic, n, out, qos, false);
}

int main(int argc, char** argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: mqtt_baseline PORT QOS\n");
    return 2;
  }
  qos = atoi(argv[2]);
  signal(SIGINT, on_stop);
  signal(SIGTERM, on_stop);
  mosquitto_lib_init();
  struct mosquitto* m = mosquitto_new("bench-baseline", 1, NULL);
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
  return 0;
}
