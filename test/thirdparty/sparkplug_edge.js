// A Sparkplug B edge node from an independent implementation (Eclipse Tahu's sparkplug-client),
// for the integration tests: node sparkplug_edge.js PORT. Edge node plant/tahu1 is born with
// Temperature (Double 20.5) and Running (Boolean true), its device pump1 with Pressure (Int32 4);
// then one NDATA (Temperature 21.25) and one DDATA (Pressure 5) follow. On SIGTERM it stops and
// publishes its NDEATH.
"use strict";
const sparkplug = require("sparkplug-client");

const client = sparkplug.newClient({
  serverUrl: `tcp://127.0.0.1:${process.argv[2]}`,
  username: "",
  password: "",
  groupId: "plant",
  edgeNode: "tahu1",
  clientId: `tahu1-${process.pid}`,
  publishDeath: true,
  version: "spBv1.0",
});

client.on("birth", () => {
  const now = Date.now();
  client.publishNodeBirth({
    timestamp: now,
    metrics: [
      { name: "Temperature", value: 20.5, type: "Double" },
      { name: "Running", value: true, type: "Boolean" },
    ],
  });
  client.publishDeviceBirth("pump1", {
    timestamp: now,
    metrics: [{ name: "Pressure", value: 4, type: "Int32" }],
  });
  setTimeout(() => {
    client.publishNodeData({
      timestamp: now + 1000,
      metrics: [{ name: "Temperature", value: 21.25, type: "Double" }],
    });
    client.publishDeviceData("pump1", {
      timestamp: now + 1000,
      metrics: [{ name: "Pressure", value: 5, type: "Int32" }],
    });
    console.log("sent");
  }, 200);
});

process.on("SIGTERM", () => {
  client.stop();
  setTimeout(() => process.exit(0), 500);
});
