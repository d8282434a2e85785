// A Modbus TCP device from an independent implementation (npm modbus-serial's ServerTCP), for the
// integration tests: node modbus_device.js PORT. Holding registers hold 100 + address, except
// registers 10 and 11, a float32 (big-endian words) of 21.5; coil 0 is on. Prints "ready" once
// it listens.
"use strict";
const ModbusRTU = require("modbus-serial");

const port = Number(process.argv[2]);
const float = Buffer.alloc(4);
float.writeFloatBE(21.5);
const holding = (address) => {
  if (address === 10) return float.readUInt16BE(0);
  if (address === 11) return float.readUInt16BE(2);
  return 100 + address;
};
const vector = {
  getHoldingRegister: (address) => holding(address),
  getInputRegister: (address) => address,
  getCoil: (address) => address === 0,
  getDiscreteInput: () => false,
  setRegister: () => {},
  setCoil: () => {},
};
const server = new ModbusRTU.ServerTCP(vector, { host: "127.0.0.1", port, unitID: 1 });
server.on("initialized", () => console.log("ready"));
server.on("socketError", (error) => console.error(error.message));
process.on("SIGTERM", () => server.close(() => process.exit(0)));
