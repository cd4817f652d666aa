// A minimal gRPC call to the server's admin API (node:http2), for the one push only it
// causes: `context` (UpdateContext). The request is encoded by hand: two fields.

import { connect } from "node:http2";
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { ADMIN_KEY, type PlenaryServer } from "./server.js";

/** `Admin/UpdateContext` with a new name (admin.proto: id = 1, optional name = 2). */
export async function renameContext(server: PlenaryServer, id: string, name: string): Promise<void> {
  const message = new BinaryWriter()
    .tag(1, WireType.LengthDelimited)
    .string(id)
    .tag(2, WireType.LengthDelimited)
    .string(name)
    .finish();
  const body = Buffer.alloc(5 + message.length);
  body.writeUInt8(0, 0);
  body.writeUInt32BE(message.length, 1);
  body.set(message, 5);

  const session = connect(`http://127.0.0.1:${server.adminPort}`);
  try {
    const status = await new Promise<string>((resolve, reject) => {
      const request = session.request({
        ":method": "POST",
        ":path": "/plenary.v1.admin.Admin/UpdateContext",
        "content-type": "application/grpc",
        te: "trailers",
        authorization: `Bearer ${ADMIN_KEY}`,
      });
      let grpcStatus: string | undefined;
      request.on("response", (headers) => {
        if (headers["grpc-status"] !== undefined) grpcStatus = String(headers["grpc-status"]);
      });
      request.on("trailers", (trailers) => {
        grpcStatus = String(trailers["grpc-status"]);
      });
      request.on("data", () => {});
      request.on("end", () => resolve(grpcStatus ?? "missing"));
      request.on("error", reject);
      request.setTimeout(10_000, () => reject(new Error("UpdateContext timed out")));
      request.end(body);
    });
    if (status !== "0") throw new Error(`UpdateContext failed: grpc-status ${status}`);
  } finally {
    session.close();
  }
}
