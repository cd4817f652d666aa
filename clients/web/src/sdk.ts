// The TypeScript SDK (clients/js), bundled into the app from its sources.
export * from "../../js/src/index.js";
