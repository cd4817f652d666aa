// The commands of `ClientFrame.command` and the reply result each is answered with
// (PROTOCOL §3). The table is checked against the schema by the compiler: a command added
// to client.proto without a line here does not build.

import type { MessageInitShape } from "@bufbuild/protobuf";
import type { ClientFrameSchema, ClientFrame, Reply } from "./gen/plenary/v1/client_pb.js";

/** A command, named as protobuf-es names the `ClientFrame.command` case (`"dmSend"`). */
export type CommandKind = NonNullable<ClientFrame["command"]["case"]>;

/** A successful reply's result, named as the `Reply.result` case. */
export type ResultKind = Exclude<NonNullable<Reply["result"]["case"]>, "error">;

/** Which result answers which command. */
export const RESULT_OF = {
  connect: "connect",
  join: "join",
  leave: "ack",
  send: "send",
  like: "like",
  unlike: "like",
  delete: "ack",
  pin: "ack",
  unpin: "ack",
  block: "ack",
  unblock: "ack",
  ping: "pong",
  postUpdate: "ack",
  ask: "send",
  threadAction: "ack",
  publishQa: "ack",
  unpublish: "ack",
  privateOpen: "privateOpen",
  connection: "ack",
  dmSend: "send",
  dmDelete: "ack",
  dmRead: "ack",
  dmHistory: "dmHistory",
  settings: "ack",
  people: "people",
  saveInteraction: "interaction",
  interactionAction: "interaction",
  vote: "vote",
  react: "ack",
  history: "history",
  refresh: "ack",
} as const satisfies Record<CommandKind, ResultKind>;

type FrameInit = Exclude<MessageInitShape<typeof ClientFrameSchema>, ClientFrame>;

/** The body of command `K`, as a plain object (`{ contextId, text }`) or a message. */
export type CommandBody<K extends CommandKind> = Extract<
  NonNullable<FrameInit["command"]>,
  { case: K }
>["value"];

/** What command `K` resolves to: its reply's result message. */
export type CommandResult<K extends CommandKind> = Extract<
  Reply["result"],
  { case: (typeof RESULT_OF)[K] }
>["value"];
