// One frame per WebSocket message, in either subprotocol (PROTOCOL §1 "JSON mapping", §9).

import { fromBinary, fromJson, toBinary, toJson, type JsonValue } from "@bufbuild/protobuf";
import {
  ClientFrameSchema,
  ServerFrameSchema,
  type ClientFrame,
  type ServerFrame,
} from "./gen/plenary/v1/client_pb.js";

export type Subprotocol = "plenary.v1.proto" | "plenary.v1.json";

export const SUBPROTOCOLS: readonly Subprotocol[] = ["plenary.v1.proto", "plenary.v1.json"];

export function encodeClientFrame(subprotocol: Subprotocol, frame: ClientFrame): string | Uint8Array {
  if (subprotocol === "plenary.v1.proto") {
    return toBinary(ClientFrameSchema, frame);
  }
  // Canonical proto3 JSON with the .proto's field names: 64-bit integers as strings,
  // enums as names, a oneof as its variant's key.
  return JSON.stringify(toJson(ClientFrameSchema, frame, { useProtoFieldName: true }));
}

/** Decodes a server frame; fields a later server adds are skipped, as PROTOCOL asks. */
export function decodeServerFrame(subprotocol: Subprotocol, data: unknown): ServerFrame {
  if (subprotocol === "plenary.v1.proto") {
    if (data instanceof ArrayBuffer) {
      return fromBinary(ServerFrameSchema, new Uint8Array(data), { readUnknownFields: false });
    }
    if (ArrayBuffer.isView(data)) {
      const view = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
      return fromBinary(ServerFrameSchema, view, { readUnknownFields: false });
    }
    throw new TypeError("plenary.v1.proto: expected a binary frame");
  }
  if (typeof data !== "string") {
    throw new TypeError("plenary.v1.json: expected a text frame");
  }
  return fromJson(ServerFrameSchema, JSON.parse(data) as JsonValue, { ignoreUnknownFields: true });
}
