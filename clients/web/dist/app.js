// src/dom.ts
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === void 0 || value === false) continue;
    if (typeof value === "function") el.addEventListener(key.replace(/^on/, ""), value);
    else if (key === "class") el.className = String(value);
    else if (key === "value") el.value = String(value);
    else if (key === "checked") el.checked = !!value;
    else if (key === "style") el.style.cssText = String(value);
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === void 0 || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}
function fill(el, ...children) {
  const active = document.activeElement;
  const field = active instanceof HTMLTextAreaElement || active instanceof HTMLInputElement ? active : null;
  const selection = field && field.selectionStart !== null ? [field.selectionStart, field.selectionEnd ?? field.selectionStart] : null;
  el.replaceChildren(...children.flat(Infinity).filter((c) => c !== null && c !== void 0 && c !== false).map((c) => c instanceof Node ? c : String(c)));
  if (field && field !== document.activeElement && field.isConnected) {
    field.focus({ preventScroll: true });
    if (selection) field.setSelectionRange(selection[0], selection[1]);
  }
}
function time(ms) {
  return ms ? new Date(Number(ms)).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }) : "";
}
function name(author) {
  if (!author) return "";
  return [author.givenName, author.familyName].filter(Boolean).join(" ") || author.userId || "";
}
var toasts = null;
function toast(title, text, kind = "info") {
  toasts ??= document.getElementById("toasts");
  if (!toasts) return;
  const el = h(
    "div",
    { class: `toast ${kind}`, role: "status", "data-testid": "toast" },
    h("button", { class: "close", "aria-label": "Dismiss", onclick: () => el.remove() }, "✕"),
    title ? h("strong", {}, title) : null,
    h("div", {}, text)
  );
  toasts.append(el);
  setTimeout(() => el.remove(), 6e3);
}
async function attempt(what) {
  return await result(what) !== void 0;
}
async function result(what) {
  try {
    return await what ?? true;
  } catch (e) {
    const err = e;
    toast("Not done", `${err.message}${err.codeName ? ` (${err.codeName.replace("ERROR_CODE_", "")})` : ""}`, "error");
    return void 0;
  }
}
var ids = 0;
function clientId(prefix) {
  const random = crypto.getRandomValues(new Uint32Array(2));
  return `${prefix}-${Date.now().toString(36)}-${(ids++).toString(36)}-${random[0].toString(36)}${random[1].toString(36)}`;
}

// node_modules/@bufbuild/protobuf/dist/esm/is-message.js
function isMessage(arg, schema) {
  const isMessage2 = arg !== null && typeof arg == "object" && "$typeName" in arg && typeof arg.$typeName == "string";
  if (!isMessage2) {
    return false;
  }
  if (schema === void 0) {
    return true;
  }
  return schema.typeName === arg.$typeName;
}

// node_modules/@bufbuild/protobuf/dist/esm/descriptors.js
var ScalarType;
(function(ScalarType2) {
  ScalarType2[ScalarType2["DOUBLE"] = 1] = "DOUBLE";
  ScalarType2[ScalarType2["FLOAT"] = 2] = "FLOAT";
  ScalarType2[ScalarType2["INT64"] = 3] = "INT64";
  ScalarType2[ScalarType2["UINT64"] = 4] = "UINT64";
  ScalarType2[ScalarType2["INT32"] = 5] = "INT32";
  ScalarType2[ScalarType2["FIXED64"] = 6] = "FIXED64";
  ScalarType2[ScalarType2["FIXED32"] = 7] = "FIXED32";
  ScalarType2[ScalarType2["BOOL"] = 8] = "BOOL";
  ScalarType2[ScalarType2["STRING"] = 9] = "STRING";
  ScalarType2[ScalarType2["BYTES"] = 12] = "BYTES";
  ScalarType2[ScalarType2["UINT32"] = 13] = "UINT32";
  ScalarType2[ScalarType2["SFIXED32"] = 15] = "SFIXED32";
  ScalarType2[ScalarType2["SFIXED64"] = 16] = "SFIXED64";
  ScalarType2[ScalarType2["SINT32"] = 17] = "SINT32";
  ScalarType2[ScalarType2["SINT64"] = 18] = "SINT64";
})(ScalarType || (ScalarType = {}));

// node_modules/@bufbuild/protobuf/dist/esm/wire/varint.js
function varint64read() {
  let lowBits = 0;
  let highBits = 0;
  for (let shift = 0; shift < 28; shift += 7) {
    let b = this.buf[this.pos++];
    lowBits |= (b & 127) << shift;
    if ((b & 128) == 0) {
      this.assertBounds();
      return [lowBits, highBits];
    }
  }
  let middleByte = this.buf[this.pos++];
  lowBits |= (middleByte & 15) << 28;
  highBits = (middleByte & 112) >> 4;
  if ((middleByte & 128) == 0) {
    this.assertBounds();
    return [lowBits, highBits];
  }
  for (let shift = 3; shift <= 31; shift += 7) {
    let b = this.buf[this.pos++];
    highBits |= (b & 127) << shift;
    if ((b & 128) == 0) {
      this.assertBounds();
      return [lowBits, highBits];
    }
  }
  throw new Error("invalid varint");
}
function varint64write(lo, hi, bytes) {
  for (let i = 0; i < 28; i = i + 7) {
    const shift = lo >>> i;
    const hasNext = !(shift >>> 7 == 0 && hi == 0);
    const byte = (hasNext ? shift | 128 : shift) & 255;
    bytes.push(byte);
    if (!hasNext) {
      return;
    }
  }
  const splitBits = lo >>> 28 & 15 | (hi & 7) << 4;
  const hasMoreBits = !(hi >> 3 == 0);
  bytes.push((hasMoreBits ? splitBits | 128 : splitBits) & 255);
  if (!hasMoreBits) {
    return;
  }
  for (let i = 3; i < 31; i = i + 7) {
    const shift = hi >>> i;
    const hasNext = !(shift >>> 7 == 0);
    const byte = (hasNext ? shift | 128 : shift) & 255;
    bytes.push(byte);
    if (!hasNext) {
      return;
    }
  }
  bytes.push(hi >>> 31 & 1);
}
var TWO_PWR_32_DBL = 4294967296;
function int64FromString(dec) {
  const minus = dec[0] === "-";
  if (minus) {
    dec = dec.slice(1);
  }
  const base = 1e6;
  let lowBits = 0;
  let highBits = 0;
  function add1e6digit(begin, end) {
    const digit1e6 = Number(dec.slice(begin, end));
    highBits *= base;
    lowBits = lowBits * base + digit1e6;
    if (lowBits >= TWO_PWR_32_DBL) {
      highBits = highBits + (lowBits / TWO_PWR_32_DBL | 0);
      lowBits = lowBits % TWO_PWR_32_DBL;
    }
  }
  add1e6digit(-24, -18);
  add1e6digit(-18, -12);
  add1e6digit(-12, -6);
  add1e6digit(-6);
  return minus ? negate(lowBits, highBits) : newBits(lowBits, highBits);
}
function int64ToString(lo, hi) {
  let bits = newBits(lo, hi);
  const negative = bits.hi & 2147483648;
  if (negative) {
    bits = negate(bits.lo, bits.hi);
  }
  const result2 = uInt64ToString(bits.lo, bits.hi);
  return negative ? "-" + result2 : result2;
}
function uInt64ToString(lo, hi) {
  ({ lo, hi } = toUnsigned(lo, hi));
  if (hi <= 2097151) {
    return String(TWO_PWR_32_DBL * hi + lo);
  }
  const low = lo & 16777215;
  const mid = (lo >>> 24 | hi << 8) & 16777215;
  const high = hi >> 16 & 65535;
  let digitA = low + mid * 6777216 + high * 6710656;
  let digitB = mid + high * 8147497;
  let digitC = high * 2;
  const base = 1e7;
  if (digitA >= base) {
    digitB += Math.floor(digitA / base);
    digitA %= base;
  }
  if (digitB >= base) {
    digitC += Math.floor(digitB / base);
    digitB %= base;
  }
  return digitC.toString() + decimalFrom1e7WithLeadingZeros(digitB) + decimalFrom1e7WithLeadingZeros(digitA);
}
function toUnsigned(lo, hi) {
  return { lo: lo >>> 0, hi: hi >>> 0 };
}
function newBits(lo, hi) {
  return { lo: lo | 0, hi: hi | 0 };
}
function negate(lowBits, highBits) {
  highBits = ~highBits;
  if (lowBits) {
    lowBits = ~lowBits + 1;
  } else {
    highBits += 1;
  }
  return newBits(lowBits, highBits);
}
var decimalFrom1e7WithLeadingZeros = (digit1e7) => {
  const partial = String(digit1e7);
  return "0000000".slice(partial.length) + partial;
};
function varint32write(value, bytes) {
  if (value >= 0) {
    while (value > 127) {
      bytes.push(value & 127 | 128);
      value = value >>> 7;
    }
    bytes.push(value);
  } else {
    for (let i = 0; i < 9; i++) {
      bytes.push(value & 127 | 128);
      value = value >> 7;
    }
    bytes.push(1);
  }
}
function varint32read() {
  let b = this.buf[this.pos++];
  let result2 = b & 127;
  if ((b & 128) == 0) {
    this.assertBounds();
    return result2;
  }
  b = this.buf[this.pos++];
  result2 |= (b & 127) << 7;
  if ((b & 128) == 0) {
    this.assertBounds();
    return result2;
  }
  b = this.buf[this.pos++];
  result2 |= (b & 127) << 14;
  if ((b & 128) == 0) {
    this.assertBounds();
    return result2;
  }
  b = this.buf[this.pos++];
  result2 |= (b & 127) << 21;
  if ((b & 128) == 0) {
    this.assertBounds();
    return result2;
  }
  b = this.buf[this.pos++];
  result2 |= (b & 15) << 28;
  for (let readBytes = 5; (b & 128) !== 0 && readBytes < 10; readBytes++)
    b = this.buf[this.pos++];
  if ((b & 128) != 0)
    throw new Error("invalid varint");
  this.assertBounds();
  return result2 >>> 0;
}

// node_modules/@bufbuild/protobuf/dist/esm/proto-int64.js
var protoInt64 = /* @__PURE__ */ makeInt64Support();
function makeInt64Support() {
  const dv = new DataView(new ArrayBuffer(8));
  const ok = typeof BigInt === "function" && typeof dv.getBigInt64 === "function" && typeof dv.getBigUint64 === "function" && typeof dv.setBigInt64 === "function" && typeof dv.setBigUint64 === "function" && (!!globalThis.Deno || !!globalThis.Bun || typeof process != "object" || typeof process.env != "object" || process.env.BUF_BIGINT_DISABLE !== "1");
  if (ok) {
    const MIN = BigInt("-9223372036854775808");
    const MAX = BigInt("9223372036854775807");
    const UMIN = BigInt("0");
    const UMAX = BigInt("18446744073709551615");
    return {
      zero: BigInt(0),
      supported: true,
      parse(value) {
        const bi = typeof value == "bigint" ? value : BigInt(value);
        if (bi > MAX || bi < MIN) {
          throw new Error(`invalid int64: ${value}`);
        }
        return bi;
      },
      uParse(value) {
        const bi = typeof value == "bigint" ? value : BigInt(value);
        if (bi > UMAX || bi < UMIN) {
          throw new Error(`invalid uint64: ${value}`);
        }
        return bi;
      },
      enc(value) {
        dv.setBigInt64(0, this.parse(value), true);
        return {
          lo: dv.getInt32(0, true),
          hi: dv.getInt32(4, true)
        };
      },
      uEnc(value) {
        dv.setBigInt64(0, this.uParse(value), true);
        return {
          lo: dv.getInt32(0, true),
          hi: dv.getInt32(4, true)
        };
      },
      dec(lo, hi) {
        dv.setInt32(0, lo, true);
        dv.setInt32(4, hi, true);
        return dv.getBigInt64(0, true);
      },
      uDec(lo, hi) {
        dv.setInt32(0, lo, true);
        dv.setInt32(4, hi, true);
        return dv.getBigUint64(0, true);
      }
    };
  }
  return {
    zero: "0",
    supported: false,
    parse(value) {
      if (typeof value != "string") {
        value = value.toString();
      }
      assertInt64String(value);
      return value;
    },
    uParse(value) {
      if (typeof value != "string") {
        value = value.toString();
      }
      assertUInt64String(value);
      return value;
    },
    enc(value) {
      if (typeof value != "string") {
        value = value.toString();
      }
      assertInt64String(value);
      return int64FromString(value);
    },
    uEnc(value) {
      if (typeof value != "string") {
        value = value.toString();
      }
      assertUInt64String(value);
      return int64FromString(value);
    },
    dec(lo, hi) {
      return int64ToString(lo, hi);
    },
    uDec(lo, hi) {
      return uInt64ToString(lo, hi);
    }
  };
}
function assertInt64String(value) {
  if (!/^-?[0-9]+$/.test(value)) {
    throw new Error("invalid int64: " + value);
  }
}
function assertUInt64String(value) {
  if (!/^[0-9]+$/.test(value)) {
    throw new Error("invalid uint64: " + value);
  }
}

// node_modules/@bufbuild/protobuf/dist/esm/reflect/scalar.js
function scalarZeroValue(type, longAsString) {
  switch (type) {
    case ScalarType.STRING:
      return "";
    case ScalarType.BOOL:
      return false;
    case ScalarType.DOUBLE:
    case ScalarType.FLOAT:
      return 0;
    case ScalarType.INT64:
    case ScalarType.UINT64:
    case ScalarType.SFIXED64:
    case ScalarType.FIXED64:
    case ScalarType.SINT64:
      return longAsString ? "0" : protoInt64.zero;
    case ScalarType.BYTES:
      return new Uint8Array(0);
    default:
      return 0;
  }
}
function isScalarZeroValue(type, value) {
  switch (type) {
    case ScalarType.BOOL:
      return value === false;
    case ScalarType.STRING:
      return value === "";
    case ScalarType.BYTES:
      return value instanceof Uint8Array && !value.byteLength;
    case ScalarType.DOUBLE:
    case ScalarType.FLOAT:
      return Object.is(value, 0);
    default:
      return value == 0;
  }
}

// node_modules/@bufbuild/protobuf/dist/esm/reflect/unsafe.js
var IMPLICIT = 2;
var unsafeLocal = /* @__PURE__ */ Symbol.for("reflect unsafe local");
function unsafeOneofCase(target, oneof) {
  const c = target[oneof.localName].case;
  if (c === void 0) {
    return c;
  }
  return oneof.fields.find((f) => f.localName === c);
}
function unsafeIsSet(target, field) {
  const name2 = field.localName;
  if (field.oneof) {
    return target[field.oneof.localName].case === name2;
  }
  if (field.presence != IMPLICIT) {
    return target[name2] !== void 0 && Object.prototype.hasOwnProperty.call(target, name2);
  }
  switch (field.fieldKind) {
    case "list":
      return target[name2].length > 0;
    case "map":
      return Object.keys(target[name2]).length > 0;
    case "scalar":
      return !isScalarZeroValue(field.scalar, target[name2]);
    case "enum":
      return target[name2] !== field.enum.values[0].number;
  }
  throw new Error("message field with implicit presence");
}
function unsafeIsSetExplicit(target, localName) {
  return Object.prototype.hasOwnProperty.call(target, localName) && target[localName] !== void 0;
}
function unsafeGet(target, field) {
  if (field.oneof) {
    const oneof = target[field.oneof.localName];
    if (oneof.case === field.localName) {
      return oneof.value;
    }
    return void 0;
  }
  return target[field.localName];
}
function unsafeSet(target, field, value) {
  if (field.oneof) {
    target[field.oneof.localName] = {
      case: field.localName,
      value
    };
  } else {
    target[field.localName] = value;
  }
}
function unsafeClear(target, field) {
  const name2 = field.localName;
  if (field.oneof) {
    const oneofLocalName = field.oneof.localName;
    if (target[oneofLocalName].case === name2) {
      target[oneofLocalName] = { case: void 0 };
    }
  } else if (field.presence != IMPLICIT) {
    delete target[name2];
  } else {
    switch (field.fieldKind) {
      case "map":
        target[name2] = {};
        break;
      case "list":
        target[name2] = [];
        break;
      case "enum":
        target[name2] = field.enum.values[0].number;
        break;
      case "scalar":
        target[name2] = scalarZeroValue(field.scalar, field.longAsString);
        break;
    }
  }
}

// node_modules/@bufbuild/protobuf/dist/esm/reflect/guard.js
function isObject(arg) {
  return arg !== null && typeof arg == "object" && !Array.isArray(arg);
}
function isReflectList(arg, field) {
  var _a, _b, _c, _d;
  if (isObject(arg) && unsafeLocal in arg && "add" in arg && "field" in arg && typeof arg.field == "function") {
    if (field !== void 0) {
      const a = field;
      const b = arg.field();
      return a.listKind == b.listKind && a.scalar === b.scalar && ((_a = a.message) === null || _a === void 0 ? void 0 : _a.typeName) === ((_b = b.message) === null || _b === void 0 ? void 0 : _b.typeName) && ((_c = a.enum) === null || _c === void 0 ? void 0 : _c.typeName) === ((_d = b.enum) === null || _d === void 0 ? void 0 : _d.typeName);
    }
    return true;
  }
  return false;
}
function isReflectMap(arg, field) {
  var _a, _b, _c, _d;
  if (isObject(arg) && unsafeLocal in arg && "has" in arg && "field" in arg && typeof arg.field == "function") {
    if (field !== void 0) {
      const a = field, b = arg.field();
      return a.mapKey === b.mapKey && a.mapKind == b.mapKind && a.scalar === b.scalar && ((_a = a.message) === null || _a === void 0 ? void 0 : _a.typeName) === ((_b = b.message) === null || _b === void 0 ? void 0 : _b.typeName) && ((_c = a.enum) === null || _c === void 0 ? void 0 : _c.typeName) === ((_d = b.enum) === null || _d === void 0 ? void 0 : _d.typeName);
    }
    return true;
  }
  return false;
}
function isReflectMessage(arg, messageDesc2) {
  return isObject(arg) && unsafeLocal in arg && "desc" in arg && isObject(arg.desc) && arg.desc.kind === "message" && (messageDesc2 === void 0 || arg.desc.typeName == messageDesc2.typeName);
}

// node_modules/@bufbuild/protobuf/dist/esm/wkt/wrappers.js
function isWrapper(arg) {
  return isWrapperTypeName(arg.$typeName);
}
function isWrapperDesc(messageDesc2) {
  const f = messageDesc2.fields[0];
  return isWrapperTypeName(messageDesc2.typeName) && f !== void 0 && f.fieldKind == "scalar" && f.name == "value" && f.number == 1;
}
function hasCustomJsonRepresentation(desc) {
  switch (desc.typeName) {
    case "google.protobuf.Any":
    case "google.protobuf.Timestamp":
    case "google.protobuf.Duration":
    case "google.protobuf.FieldMask":
    case "google.protobuf.Struct":
    case "google.protobuf.Value":
    case "google.protobuf.ListValue":
      return true;
    default:
      return isWrapperDesc(desc);
  }
}
function isWrapperTypeName(name2) {
  return name2.startsWith("google.protobuf.") && [
    "DoubleValue",
    "FloatValue",
    "Int64Value",
    "UInt64Value",
    "Int32Value",
    "UInt32Value",
    "BoolValue",
    "StringValue",
    "BytesValue"
  ].includes(name2.substring(16));
}

// node_modules/@bufbuild/protobuf/dist/esm/create.js
var EDITION_PROTO3 = 999;
var EDITION_PROTO2 = 998;
var IMPLICIT2 = 2;
function create(schema, init) {
  if (isMessage(init, schema)) {
    return init;
  }
  const message = createZeroMessage(schema);
  if (init !== void 0) {
    initMessage(schema, message, init);
  }
  return message;
}
function initMessage(messageDesc2, message, init) {
  for (const member of messageDesc2.members) {
    let value = init[member.localName];
    if (value == null) {
      continue;
    }
    let field;
    if (member.kind == "oneof") {
      const oneofField = unsafeOneofCase(init, member);
      if (!oneofField) {
        continue;
      }
      field = oneofField;
      value = unsafeGet(init, oneofField);
    } else {
      field = member;
    }
    switch (field.fieldKind) {
      case "message":
        value = toMessage(field, value);
        break;
      case "scalar":
        value = initScalar(field, value);
        break;
      case "list":
        value = initList(field, value);
        break;
      case "map":
        value = initMap(field, value);
        break;
    }
    unsafeSet(message, field, value);
  }
  return message;
}
function initScalar(field, value) {
  if (field.scalar == ScalarType.BYTES) {
    return toU8Arr(value);
  }
  return value;
}
function initMap(field, value) {
  if (isObject(value)) {
    if (field.scalar == ScalarType.BYTES) {
      return convertObjectValues(value, toU8Arr);
    }
    if (field.mapKind == "message") {
      return convertObjectValues(value, (val) => toMessage(field, val));
    }
  }
  return value;
}
function initList(field, value) {
  if (Array.isArray(value)) {
    if (field.scalar == ScalarType.BYTES) {
      return value.map(toU8Arr);
    }
    if (field.listKind == "message") {
      return value.map((item) => toMessage(field, item));
    }
  }
  return value;
}
function toMessage(field, value) {
  if (field.fieldKind == "message" && !field.oneof && isWrapperDesc(field.message)) {
    return initScalar(field.message.fields[0], value);
  }
  if (isObject(value)) {
    if (field.message.typeName == "google.protobuf.Struct" && field.parent.typeName !== "google.protobuf.Value") {
      return value;
    }
    if (!isMessage(value, field.message)) {
      return create(field.message, value);
    }
  }
  return value;
}
function toU8Arr(value) {
  return Array.isArray(value) ? new Uint8Array(value) : value;
}
function convertObjectValues(obj, fn) {
  const ret = {};
  for (const entry of Object.entries(obj)) {
    ret[entry[0]] = fn(entry[1]);
  }
  return ret;
}
var tokenZeroMessageField = /* @__PURE__ */ Symbol();
var messagePrototypes = /* @__PURE__ */ new WeakMap();
function createZeroMessage(desc) {
  let msg;
  if (!needsPrototypeChain(desc)) {
    msg = {
      $typeName: desc.typeName
    };
    for (const member of desc.members) {
      if (member.kind == "oneof" || member.presence == IMPLICIT2) {
        msg[member.localName] = createZeroField(member);
      }
    }
  } else {
    const cached = messagePrototypes.get(desc);
    let prototype;
    let members;
    if (cached) {
      ({ prototype, members } = cached);
    } else {
      prototype = {};
      members = /* @__PURE__ */ new Set();
      for (const member of desc.members) {
        if (member.kind == "oneof") {
          continue;
        }
        if (member.fieldKind != "scalar" && member.fieldKind != "enum") {
          continue;
        }
        if (member.presence == IMPLICIT2) {
          continue;
        }
        members.add(member);
        prototype[member.localName] = createZeroField(member);
      }
      messagePrototypes.set(desc, { prototype, members });
    }
    msg = Object.create(prototype);
    msg.$typeName = desc.typeName;
    for (const member of desc.members) {
      if (members.has(member)) {
        continue;
      }
      if (member.kind == "field") {
        if (member.fieldKind == "message") {
          continue;
        }
        if (member.fieldKind == "scalar" || member.fieldKind == "enum") {
          if (member.presence != IMPLICIT2) {
            continue;
          }
        }
      }
      msg[member.localName] = createZeroField(member);
    }
  }
  return msg;
}
function needsPrototypeChain(desc) {
  switch (desc.file.edition) {
    case EDITION_PROTO3:
      return false;
    case EDITION_PROTO2:
      return true;
    default:
      return desc.fields.some((f) => f.presence != IMPLICIT2 && f.fieldKind != "message" && !f.oneof);
  }
}
function createZeroField(field) {
  if (field.kind == "oneof") {
    return { case: void 0 };
  }
  if (field.fieldKind == "list") {
    return [];
  }
  if (field.fieldKind == "map") {
    return {};
  }
  if (field.fieldKind == "message") {
    return tokenZeroMessageField;
  }
  const defaultValue = field.getDefaultValue();
  if (defaultValue !== void 0) {
    return field.fieldKind == "scalar" && field.longAsString ? defaultValue.toString() : defaultValue;
  }
  return field.fieldKind == "scalar" ? scalarZeroValue(field.scalar, field.longAsString) : field.enum.values[0].number;
}

// node_modules/@bufbuild/protobuf/dist/esm/reflect/error.js
var errorNames = [
  "FieldValueInvalidError",
  "FieldListRangeError",
  "ForeignFieldError"
];
var FieldError = class extends Error {
  constructor(fieldOrOneof, message, name2 = "FieldValueInvalidError") {
    super(message);
    this.name = name2;
    this.field = () => fieldOrOneof;
  }
};
function isFieldError(arg) {
  return arg instanceof Error && errorNames.includes(arg.name) && "field" in arg && typeof arg.field == "function";
}

// node_modules/@bufbuild/protobuf/dist/esm/wire/text-encoding.js
var symbol = /* @__PURE__ */ Symbol.for("@bufbuild/protobuf/text-encoding");
function getTextEncoding() {
  if (globalThis[symbol] == void 0) {
    const te = new globalThis.TextEncoder();
    const td = new globalThis.TextDecoder();
    let tdStrict;
    globalThis[symbol] = {
      encodeUtf8(text) {
        return te.encode(text);
      },
      decodeUtf8(bytes, strict) {
        if (strict) {
          if (tdStrict === void 0) {
            tdStrict = new globalThis.TextDecoder("utf-8", { fatal: true });
          }
          return tdStrict.decode(bytes);
        }
        return td.decode(bytes);
      },
      checkUtf8(text) {
        try {
          encodeURIComponent(text);
          return true;
        } catch (_) {
          return false;
        }
      }
    };
  }
  return globalThis[symbol];
}

// node_modules/@bufbuild/protobuf/dist/esm/wire/binary-encoding.js
var WireType;
(function(WireType2) {
  WireType2[WireType2["Varint"] = 0] = "Varint";
  WireType2[WireType2["Bit64"] = 1] = "Bit64";
  WireType2[WireType2["LengthDelimited"] = 2] = "LengthDelimited";
  WireType2[WireType2["StartGroup"] = 3] = "StartGroup";
  WireType2[WireType2["EndGroup"] = 4] = "EndGroup";
  WireType2[WireType2["Bit32"] = 5] = "Bit32";
})(WireType || (WireType = {}));
var FLOAT32_MAX = 34028234663852886e22;
var FLOAT32_MIN = -34028234663852886e22;
var UINT32_MAX = 4294967295;
var INT32_MAX = 2147483647;
var INT32_MIN = -2147483648;
var BinaryWriter = class {
  constructor(encodeUtf8 = getTextEncoding().encodeUtf8) {
    this.encodeUtf8 = encodeUtf8;
    this.stack = [];
    this.chunks = [];
    this.buf = [];
  }
  /**
   * Return all bytes written and reset this writer.
   */
  finish() {
    if (this.buf.length) {
      this.chunks.push(new Uint8Array(this.buf));
      this.buf = [];
    }
    let len = 0;
    for (let i = 0; i < this.chunks.length; i++)
      len += this.chunks[i].length;
    let bytes = new Uint8Array(len);
    let offset = 0;
    for (let i = 0; i < this.chunks.length; i++) {
      bytes.set(this.chunks[i], offset);
      offset += this.chunks[i].length;
    }
    this.chunks = [];
    return bytes;
  }
  /**
   * Start a new fork for length-delimited data like a message
   * or a packed repeated field.
   *
   * Must be joined later with `join()`.
   */
  fork() {
    this.stack.push({ chunks: this.chunks, buf: this.buf });
    this.chunks = [];
    this.buf = [];
    return this;
  }
  /**
   * Join the last fork. Write its length and bytes, then
   * return to the previous state.
   */
  join() {
    let chunk = this.finish();
    let prev = this.stack.pop();
    if (!prev)
      throw new Error("invalid state, fork stack empty");
    this.chunks = prev.chunks;
    this.buf = prev.buf;
    this.uint32(chunk.byteLength);
    return this.raw(chunk);
  }
  /**
   * Writes a tag (field number and wire type).
   *
   * Equivalent to `uint32( (fieldNo << 3 | type) >>> 0 )`.
   *
   * Generated code should compute the tag ahead of time and call `uint32()`.
   */
  tag(fieldNo, type) {
    return this.uint32((fieldNo << 3 | type) >>> 0);
  }
  /**
   * Write a chunk of raw bytes.
   */
  raw(chunk) {
    if (this.buf.length) {
      this.chunks.push(new Uint8Array(this.buf));
      this.buf = [];
    }
    this.chunks.push(chunk);
    return this;
  }
  /**
   * Write a `uint32` value, an unsigned 32 bit varint.
   */
  uint32(value) {
    assertUInt32(value);
    while (value > 127) {
      this.buf.push(value & 127 | 128);
      value = value >>> 7;
    }
    this.buf.push(value);
    return this;
  }
  /**
   * Write a `int32` value, a signed 32 bit varint.
   */
  int32(value) {
    assertInt32(value);
    varint32write(value, this.buf);
    return this;
  }
  /**
   * Write a `bool` value, a varint.
   */
  bool(value) {
    this.buf.push(value ? 1 : 0);
    return this;
  }
  /**
   * Write a `bytes` value, length-delimited arbitrary data.
   */
  bytes(value) {
    this.uint32(value.byteLength);
    return this.raw(value);
  }
  /**
   * Write a `string` value, length-delimited data converted to UTF-8 text.
   */
  string(value) {
    let chunk = this.encodeUtf8(value);
    this.uint32(chunk.byteLength);
    return this.raw(chunk);
  }
  /**
   * Write a `float` value, 32-bit floating point number.
   */
  float(value) {
    assertFloat32(value);
    let chunk = new Uint8Array(4);
    new DataView(chunk.buffer).setFloat32(0, value, true);
    return this.raw(chunk);
  }
  /**
   * Write a `double` value, a 64-bit floating point number.
   */
  double(value) {
    let chunk = new Uint8Array(8);
    new DataView(chunk.buffer).setFloat64(0, value, true);
    return this.raw(chunk);
  }
  /**
   * Write a `fixed32` value, an unsigned, fixed-length 32-bit integer.
   */
  fixed32(value) {
    assertUInt32(value);
    let chunk = new Uint8Array(4);
    new DataView(chunk.buffer).setUint32(0, value, true);
    return this.raw(chunk);
  }
  /**
   * Write a `sfixed32` value, a signed, fixed-length 32-bit integer.
   */
  sfixed32(value) {
    assertInt32(value);
    let chunk = new Uint8Array(4);
    new DataView(chunk.buffer).setInt32(0, value, true);
    return this.raw(chunk);
  }
  /**
   * Write a `sint32` value, a signed, zigzag-encoded 32-bit varint.
   */
  sint32(value) {
    assertInt32(value);
    value = (value << 1 ^ value >> 31) >>> 0;
    varint32write(value, this.buf);
    return this;
  }
  /**
   * Write a `sfixed64` value, a signed, fixed-length 64-bit integer.
   */
  sfixed64(value) {
    let chunk = new Uint8Array(8), view = new DataView(chunk.buffer), tc = protoInt64.enc(value);
    view.setInt32(0, tc.lo, true);
    view.setInt32(4, tc.hi, true);
    return this.raw(chunk);
  }
  /**
   * Write a `fixed64` value, an unsigned, fixed-length 64 bit integer.
   */
  fixed64(value) {
    let chunk = new Uint8Array(8), view = new DataView(chunk.buffer), tc = protoInt64.uEnc(value);
    view.setInt32(0, tc.lo, true);
    view.setInt32(4, tc.hi, true);
    return this.raw(chunk);
  }
  /**
   * Write a `int64` value, a signed 64-bit varint.
   */
  int64(value) {
    let tc = protoInt64.enc(value);
    varint64write(tc.lo, tc.hi, this.buf);
    return this;
  }
  /**
   * Write a `sint64` value, a signed, zig-zag-encoded 64-bit varint.
   */
  sint64(value) {
    const tc = protoInt64.enc(value), sign = tc.hi >> 31, lo = tc.lo << 1 ^ sign, hi = (tc.hi << 1 | tc.lo >>> 31) ^ sign;
    varint64write(lo, hi, this.buf);
    return this;
  }
  /**
   * Write a `uint64` value, an unsigned 64-bit varint.
   */
  uint64(value) {
    const tc = protoInt64.uEnc(value);
    varint64write(tc.lo, tc.hi, this.buf);
    return this;
  }
};
var BinaryReader = class {
  constructor(buf, decodeUtf8 = getTextEncoding().decodeUtf8) {
    this.decodeUtf8 = decodeUtf8;
    this.varint64 = varint64read;
    this.uint32 = varint32read;
    this.buf = buf;
    this.len = buf.length;
    this.pos = 0;
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }
  /**
   * Reads a tag - field number and wire type. Tags are uint32 varints; values
   * that do not fit in uint32 are rejected.
   */
  tag() {
    const start2 = this.pos;
    const tag = this.uint32();
    const bytesRead = this.pos - start2;
    if (bytesRead > 5 || bytesRead == 5 && this.buf[this.pos - 1] > 15) {
      throw new Error("illegal tag: varint overflows uint32");
    }
    const fieldNo = tag >>> 3;
    const wireType = tag & 7;
    if (fieldNo <= 0 || wireType > 5) {
      throw new Error("illegal tag: field no " + fieldNo + " wire type " + wireType);
    }
    return [fieldNo, wireType];
  }
  /**
   * Skip one element and return the skipped data.
   *
   * When skipping StartGroup, provide the tags field number to check for
   * matching field number in the EndGroup tag. Recursion into nested groups
   * is guarded by the `recursionLimit` argument: When the limit is reached,
   * this method throws.
   */
  skip(wireType, fieldNo, recursionLimit = 100) {
    let start2 = this.pos;
    switch (wireType) {
      case WireType.Varint:
        while (this.buf[this.pos++] & 128) {
        }
        break;
      // @ts-ignore TS7029: Fallthrough case in switch -- ignore instead of expect-error for compiler settings without noFallthroughCasesInSwitch: true
      case WireType.Bit64:
        this.pos += 4;
      case WireType.Bit32:
        this.pos += 4;
        break;
      case WireType.LengthDelimited:
        let len = this.uint32();
        this.pos += len;
        break;
      case WireType.StartGroup:
        if (recursionLimit <= 0) {
          throw new Error("maximum recursion depth reached");
        }
        for (; ; ) {
          const [fn, wt] = this.tag();
          if (wt === WireType.EndGroup) {
            if (fieldNo !== void 0 && fn !== fieldNo) {
              throw new Error("invalid end group tag");
            }
            break;
          }
          this.skip(wt, fn, recursionLimit - 1);
        }
        break;
      default:
        throw new Error("cant skip wire type " + wireType);
    }
    this.assertBounds();
    return this.buf.subarray(start2, this.pos);
  }
  /**
   * Throws error if position in byte array is out of range.
   */
  assertBounds() {
    if (this.pos > this.len)
      throw new RangeError("premature EOF");
  }
  /**
   * Read a `int32` field, a signed 32 bit varint.
   */
  int32() {
    return this.uint32() | 0;
  }
  /**
   * Read a `sint32` field, a signed, zigzag-encoded 32-bit varint.
   */
  sint32() {
    let zze = this.uint32();
    return zze >>> 1 ^ -(zze & 1);
  }
  /**
   * Read a `int64` field, a signed 64-bit varint.
   */
  int64() {
    return protoInt64.dec(...this.varint64());
  }
  /**
   * Read a `uint64` field, an unsigned 64-bit varint.
   */
  uint64() {
    return protoInt64.uDec(...this.varint64());
  }
  /**
   * Read a `sint64` field, a signed, zig-zag-encoded 64-bit varint.
   */
  sint64() {
    let [lo, hi] = this.varint64();
    let s = -(lo & 1);
    lo = (lo >>> 1 | (hi & 1) << 31) ^ s;
    hi = hi >>> 1 ^ s;
    return protoInt64.dec(lo, hi);
  }
  /**
   * Read a `bool` field, a variant.
   */
  bool() {
    let [lo, hi] = this.varint64();
    return lo !== 0 || hi !== 0;
  }
  /**
   * Read a `fixed32` field, an unsigned, fixed-length 32-bit integer.
   */
  fixed32() {
    return this.view.getUint32((this.pos += 4) - 4, true);
  }
  /**
   * Read a `sfixed32` field, a signed, fixed-length 32-bit integer.
   */
  sfixed32() {
    return this.view.getInt32((this.pos += 4) - 4, true);
  }
  /**
   * Read a `fixed64` field, an unsigned, fixed-length 64 bit integer.
   */
  fixed64() {
    return protoInt64.uDec(this.sfixed32(), this.sfixed32());
  }
  /**
   * Read a `fixed64` field, a signed, fixed-length 64-bit integer.
   */
  sfixed64() {
    return protoInt64.dec(this.sfixed32(), this.sfixed32());
  }
  /**
   * Read a `float` field, 32-bit floating point number.
   */
  float() {
    return this.view.getFloat32((this.pos += 4) - 4, true);
  }
  /**
   * Read a `double` field, a 64-bit floating point number.
   */
  double() {
    return this.view.getFloat64((this.pos += 8) - 8, true);
  }
  /**
   * Read a `bytes` field, length-delimited arbitrary data.
   */
  bytes() {
    let len = this.uint32(), start2 = this.pos;
    this.pos += len;
    this.assertBounds();
    return this.buf.subarray(start2, start2 + len);
  }
  /**
   * Read a `string` field, length-delimited data converted to UTF-8 text. If
   * `strict` is true, throw on invalid UTF-8 instead of substituting U+FFFD.
   */
  string(strict) {
    return this.decodeUtf8(this.bytes(), strict);
  }
};
function assertInt32(arg) {
  if (typeof arg == "string") {
    arg = Number(arg);
  } else if (typeof arg != "number") {
    throw new Error("invalid int32: " + typeof arg);
  }
  if (!Number.isInteger(arg) || arg > INT32_MAX || arg < INT32_MIN)
    throw new Error("invalid int32: " + arg);
}
function assertUInt32(arg) {
  if (typeof arg == "string") {
    arg = Number(arg);
  } else if (typeof arg != "number") {
    throw new Error("invalid uint32: " + typeof arg);
  }
  if (!Number.isInteger(arg) || arg > UINT32_MAX || arg < 0)
    throw new Error("invalid uint32: " + arg);
}
function assertFloat32(arg) {
  if (typeof arg == "string") {
    const o = arg;
    arg = Number(arg);
    if (Number.isNaN(arg) && o !== "NaN") {
      throw new Error("invalid float32: " + o);
    }
  } else if (typeof arg != "number") {
    throw new Error("invalid float32: " + typeof arg);
  }
  if (Number.isFinite(arg) && (arg > FLOAT32_MAX || arg < FLOAT32_MIN))
    throw new Error("invalid float32: " + arg);
}

// node_modules/@bufbuild/protobuf/dist/esm/reflect/reflect-check.js
function checkField(field, value) {
  const check = field.fieldKind == "list" ? isReflectList(value, field) : field.fieldKind == "map" ? isReflectMap(value, field) : checkSingular(field, value);
  if (check === true) {
    return void 0;
  }
  let reason;
  switch (field.fieldKind) {
    case "list":
      reason = `expected ${formatReflectList(field)}, got ${formatVal(value)}`;
      break;
    case "map":
      reason = `expected ${formatReflectMap(field)}, got ${formatVal(value)}`;
      break;
    default: {
      reason = reasonSingular(field, value, check);
    }
  }
  return new FieldError(field, reason);
}
function checkListItem(field, index, value) {
  const check = checkSingular(field, value);
  if (check !== true) {
    return new FieldError(field, `list item #${index + 1}: ${reasonSingular(field, value, check)}`);
  }
  return void 0;
}
function checkMapEntry(field, key, value) {
  const checkKey = checkScalarValue(key, field.mapKey);
  if (checkKey !== true) {
    return new FieldError(field, `invalid map key: ${reasonSingular({ scalar: field.mapKey }, key, checkKey)}`);
  }
  const checkVal = checkSingular(field, value);
  if (checkVal !== true) {
    return new FieldError(field, `map entry ${formatVal(key)}: ${reasonSingular(field, value, checkVal)}`);
  }
  return void 0;
}
function checkSingular(field, value) {
  if (field.scalar !== void 0) {
    return checkScalarValue(value, field.scalar);
  }
  if (field.enum !== void 0) {
    if (field.enum.open) {
      return checkScalarValue(value, ScalarType.INT32);
    }
    return field.enum.values.some((v) => v.number === value);
  }
  return isReflectMessage(value, field.message);
}
function checkScalarValue(value, scalar) {
  switch (scalar) {
    case ScalarType.DOUBLE:
      return typeof value == "number";
    case ScalarType.FLOAT:
      if (typeof value != "number") {
        return false;
      }
      if (Number.isNaN(value) || !Number.isFinite(value)) {
        return true;
      }
      if (value > FLOAT32_MAX || value < FLOAT32_MIN) {
        return `${value.toFixed()} out of range`;
      }
      return true;
    case ScalarType.INT32:
    case ScalarType.SFIXED32:
    case ScalarType.SINT32:
      if (typeof value !== "number" || !Number.isInteger(value)) {
        return false;
      }
      if (value > INT32_MAX || value < INT32_MIN) {
        return `${value.toFixed()} out of range`;
      }
      return true;
    case ScalarType.FIXED32:
    case ScalarType.UINT32:
      if (typeof value !== "number" || !Number.isInteger(value)) {
        return false;
      }
      if (value > UINT32_MAX || value < 0) {
        return `${value.toFixed()} out of range`;
      }
      return true;
    case ScalarType.BOOL:
      return typeof value == "boolean";
    case ScalarType.STRING:
      if (typeof value != "string") {
        return false;
      }
      return getTextEncoding().checkUtf8(value) || "invalid UTF8";
    case ScalarType.BYTES:
      return value instanceof Uint8Array;
    case ScalarType.INT64:
    case ScalarType.SFIXED64:
    case ScalarType.SINT64:
      if (typeof value == "bigint" || typeof value == "number" || typeof value == "string" && value.length > 0) {
        try {
          protoInt64.parse(value);
          return true;
        } catch (_) {
          return `${value} out of range`;
        }
      }
      return false;
    case ScalarType.FIXED64:
    case ScalarType.UINT64:
      if (typeof value == "bigint" || typeof value == "number" || typeof value == "string" && value.length > 0) {
        try {
          protoInt64.uParse(value);
          return true;
        } catch (_) {
          return `${value} out of range`;
        }
      }
      return false;
  }
}
function reasonSingular(field, val, details) {
  details = typeof details == "string" ? `: ${details}` : `, got ${formatVal(val)}`;
  if (field.scalar !== void 0) {
    return `expected ${scalarTypeDescription(field.scalar)}` + details;
  }
  if (field.enum !== void 0) {
    return `expected ${field.enum.toString()}` + details;
  }
  return `expected ${formatReflectMessage(field.message)}` + details;
}
function formatVal(val) {
  switch (typeof val) {
    case "object":
      if (val === null) {
        return "null";
      }
      if (val instanceof Uint8Array) {
        return `Uint8Array(${val.length})`;
      }
      if (Array.isArray(val)) {
        return `Array(${val.length})`;
      }
      if (isReflectList(val)) {
        return formatReflectList(val.field());
      }
      if (isReflectMap(val)) {
        return formatReflectMap(val.field());
      }
      if (isReflectMessage(val)) {
        return formatReflectMessage(val.desc);
      }
      if (isMessage(val)) {
        return `message ${val.$typeName}`;
      }
      return "object";
    case "string":
      return val.length > 30 ? "string" : `"${val.split('"').join('\\"')}"`;
    case "boolean":
      return String(val);
    case "number":
      return String(val);
    case "bigint":
      return String(val) + "n";
    default:
      return typeof val;
  }
}
function formatReflectMessage(desc) {
  return `ReflectMessage (${desc.typeName})`;
}
function formatReflectList(field) {
  switch (field.listKind) {
    case "message":
      return `ReflectList (${field.message.toString()})`;
    case "enum":
      return `ReflectList (${field.enum.toString()})`;
    case "scalar":
      return `ReflectList (${ScalarType[field.scalar]})`;
  }
}
function formatReflectMap(field) {
  switch (field.mapKind) {
    case "message":
      return `ReflectMap (${ScalarType[field.mapKey]}, ${field.message.toString()})`;
    case "enum":
      return `ReflectMap (${ScalarType[field.mapKey]}, ${field.enum.toString()})`;
    case "scalar":
      return `ReflectMap (${ScalarType[field.mapKey]}, ${ScalarType[field.scalar]})`;
  }
}
function scalarTypeDescription(scalar) {
  switch (scalar) {
    case ScalarType.STRING:
      return "string";
    case ScalarType.BOOL:
      return "boolean";
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.SFIXED64:
      return "bigint (int64)";
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      return "bigint (uint64)";
    case ScalarType.BYTES:
      return "Uint8Array";
    case ScalarType.DOUBLE:
      return "number (float64)";
    case ScalarType.FLOAT:
      return "number (float32)";
    case ScalarType.FIXED32:
    case ScalarType.UINT32:
      return "number (uint32)";
    case ScalarType.INT32:
    case ScalarType.SFIXED32:
    case ScalarType.SINT32:
      return "number (int32)";
  }
}

// node_modules/@bufbuild/protobuf/dist/esm/reflect/reflect.js
var NULL_VALUE = 0;
function reflect(messageDesc2, message, check = true) {
  return new ReflectMessageImpl(messageDesc2, message, check);
}
var messageSortedFields = /* @__PURE__ */ new WeakMap();
var ReflectMessageImpl = class {
  get sortedFields() {
    const cached = messageSortedFields.get(this.desc);
    if (cached) {
      return cached;
    }
    const sortedFields = this.desc.fields.concat().sort((a, b) => a.number - b.number);
    messageSortedFields.set(this.desc, sortedFields);
    return sortedFields;
  }
  constructor(messageDesc2, message, check = true) {
    this.lists = /* @__PURE__ */ new Map();
    this.maps = /* @__PURE__ */ new Map();
    this.check = check;
    this.desc = messageDesc2;
    this.message = this[unsafeLocal] = message !== null && message !== void 0 ? message : create(messageDesc2);
    this.fields = messageDesc2.fields;
    this.oneofs = messageDesc2.oneofs;
    this.members = messageDesc2.members;
  }
  findNumber(number) {
    if (!this._fieldsByNumber) {
      this._fieldsByNumber = new Map(this.desc.fields.map((f) => [f.number, f]));
    }
    return this._fieldsByNumber.get(number);
  }
  oneofCase(oneof) {
    assertOwn(this.message, oneof);
    return unsafeOneofCase(this.message, oneof);
  }
  isSet(field) {
    assertOwn(this.message, field);
    return unsafeIsSet(this.message, field);
  }
  clear(field) {
    assertOwn(this.message, field);
    unsafeClear(this.message, field);
  }
  get(field) {
    assertOwn(this.message, field);
    const value = unsafeGet(this.message, field);
    switch (field.fieldKind) {
      case "list":
        let list = this.lists.get(field);
        if (!list || list[unsafeLocal] !== value) {
          this.lists.set(
            field,
            // biome-ignore lint/suspicious/noAssignInExpressions: no
            list = new ReflectListImpl(field, value, this.check)
          );
        }
        return list;
      case "map":
        let map = this.maps.get(field);
        if (!map || map[unsafeLocal] !== value) {
          this.maps.set(
            field,
            // biome-ignore lint/suspicious/noAssignInExpressions: no
            map = new ReflectMapImpl(field, value, this.check)
          );
        }
        return map;
      case "message":
        return messageToReflect(field, value, this.check);
      case "scalar":
        return value === void 0 ? scalarZeroValue(field.scalar, false) : longToReflect(field, value);
      case "enum":
        return value !== null && value !== void 0 ? value : field.enum.values[0].number;
    }
  }
  set(field, value) {
    assertOwn(this.message, field);
    if (this.check) {
      const err = checkField(field, value);
      if (err) {
        throw err;
      }
    }
    let local2;
    if (field.fieldKind == "message") {
      local2 = messageToLocal(field, value);
    } else if (isReflectMap(value) || isReflectList(value)) {
      local2 = value[unsafeLocal];
    } else {
      local2 = longToLocal(field, value);
    }
    unsafeSet(this.message, field, local2);
  }
  getUnknown() {
    return this.message.$unknown;
  }
  setUnknown(value) {
    this.message.$unknown = value;
  }
};
function assertOwn(owner, member) {
  if (member.parent.typeName !== owner.$typeName) {
    throw new FieldError(member, `cannot use ${member.toString()} with message ${owner.$typeName}`, "ForeignFieldError");
  }
}
var ReflectListImpl = class {
  field() {
    return this._field;
  }
  get size() {
    return this._arr.length;
  }
  constructor(field, unsafeInput, check) {
    this._field = field;
    this._arr = this[unsafeLocal] = unsafeInput;
    this.check = check;
  }
  get(index) {
    const item = this._arr[index];
    return item === void 0 ? void 0 : listItemToReflect(this._field, item, this.check);
  }
  set(index, item) {
    if (index < 0 || index >= this._arr.length) {
      throw new FieldError(this._field, `list item #${index + 1}: out of range`);
    }
    if (this.check) {
      const err = checkListItem(this._field, index, item);
      if (err) {
        throw err;
      }
    }
    this._arr[index] = listItemToLocal(this._field, item);
  }
  add(item) {
    if (this.check) {
      const err = checkListItem(this._field, this._arr.length, item);
      if (err) {
        throw err;
      }
    }
    this._arr.push(listItemToLocal(this._field, item));
    return void 0;
  }
  clear() {
    this._arr.splice(0, this._arr.length);
  }
  [Symbol.iterator]() {
    return this.values();
  }
  keys() {
    return this._arr.keys();
  }
  *values() {
    for (const item of this._arr) {
      yield listItemToReflect(this._field, item, this.check);
    }
  }
  *entries() {
    for (let i = 0; i < this._arr.length; i++) {
      yield [i, listItemToReflect(this._field, this._arr[i], this.check)];
    }
  }
};
var ReflectMapImpl = class {
  constructor(field, unsafeInput, check = true) {
    this.obj = this[unsafeLocal] = unsafeInput !== null && unsafeInput !== void 0 ? unsafeInput : {};
    this.check = check;
    this._field = field;
  }
  field() {
    return this._field;
  }
  set(key, value) {
    if (this.check) {
      const err = checkMapEntry(this._field, key, value);
      if (err) {
        throw err;
      }
    }
    this.obj[mapKeyToLocal(key)] = mapValueToLocal(this._field, value);
    return this;
  }
  delete(key) {
    const k = mapKeyToLocal(key);
    const has = Object.prototype.hasOwnProperty.call(this.obj, k);
    if (has) {
      delete this.obj[k];
    }
    return has;
  }
  clear() {
    for (const key of Object.keys(this.obj)) {
      delete this.obj[key];
    }
  }
  get(key) {
    let val = this.obj[mapKeyToLocal(key)];
    if (val !== void 0) {
      val = mapValueToReflect(this._field, val, this.check);
    }
    return val;
  }
  has(key) {
    return Object.prototype.hasOwnProperty.call(this.obj, mapKeyToLocal(key));
  }
  *keys() {
    for (const objKey of Object.keys(this.obj)) {
      yield mapKeyToReflect(objKey, this._field.mapKey);
    }
  }
  *entries() {
    for (const objEntry of Object.entries(this.obj)) {
      yield [
        mapKeyToReflect(objEntry[0], this._field.mapKey),
        mapValueToReflect(this._field, objEntry[1], this.check)
      ];
    }
  }
  [Symbol.iterator]() {
    return this.entries();
  }
  get size() {
    return Object.keys(this.obj).length;
  }
  *values() {
    for (const val of Object.values(this.obj)) {
      yield mapValueToReflect(this._field, val, this.check);
    }
  }
  forEach(callbackfn, thisArg) {
    for (const mapEntry of this.entries()) {
      callbackfn.call(thisArg, mapEntry[1], mapEntry[0], this);
    }
  }
};
function messageToLocal(field, value) {
  if (!isReflectMessage(value)) {
    return value;
  }
  if (isWrapper(value.message) && !field.oneof && field.fieldKind == "message") {
    return value.message.value;
  }
  if (value.desc.typeName == "google.protobuf.Struct" && field.parent.typeName != "google.protobuf.Value") {
    return wktStructToLocal(value.message);
  }
  return value.message;
}
function messageToReflect(field, value, check) {
  if (value !== void 0) {
    if (isWrapperDesc(field.message) && !field.oneof && field.fieldKind == "message") {
      value = {
        $typeName: field.message.typeName,
        value: longToReflect(field.message.fields[0], value)
      };
    } else if (field.message.typeName == "google.protobuf.Struct" && field.parent.typeName != "google.protobuf.Value" && isObject(value)) {
      value = wktStructToReflect(value);
    }
  }
  return new ReflectMessageImpl(field.message, value, check);
}
function listItemToLocal(field, value) {
  if (field.listKind == "message") {
    return messageToLocal(field, value);
  }
  return longToLocal(field, value);
}
function listItemToReflect(field, value, check) {
  if (field.listKind == "message") {
    return messageToReflect(field, value, check);
  }
  return longToReflect(field, value);
}
function mapValueToLocal(field, value) {
  if (field.mapKind == "message") {
    return messageToLocal(field, value);
  }
  return longToLocal(field, value);
}
function mapValueToReflect(field, value, check) {
  if (field.mapKind == "message") {
    return messageToReflect(field, value, check);
  }
  return value;
}
function mapKeyToLocal(key) {
  return typeof key == "string" || typeof key == "number" ? key : String(key);
}
function mapKeyToReflect(key, type) {
  switch (type) {
    case ScalarType.STRING:
      return key;
    case ScalarType.INT32:
    case ScalarType.FIXED32:
    case ScalarType.UINT32:
    case ScalarType.SFIXED32:
    case ScalarType.SINT32: {
      const n = Number.parseInt(key);
      if (Number.isFinite(n)) {
        return n;
      }
      break;
    }
    case ScalarType.BOOL:
      switch (key) {
        case "true":
          return true;
        case "false":
          return false;
      }
      break;
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      try {
        return protoInt64.uParse(key);
      } catch (_a) {
      }
      break;
    default:
      try {
        return protoInt64.parse(key);
      } catch (_b) {
      }
      break;
  }
  return key;
}
function longToReflect(field, value) {
  switch (field.scalar) {
    case ScalarType.INT64:
    case ScalarType.SFIXED64:
    case ScalarType.SINT64:
      if ("longAsString" in field && field.longAsString && typeof value == "string") {
        value = protoInt64.parse(value);
      }
      break;
    case ScalarType.FIXED64:
    case ScalarType.UINT64:
      if ("longAsString" in field && field.longAsString && typeof value == "string") {
        value = protoInt64.uParse(value);
      }
      break;
  }
  return value;
}
function longToLocal(field, value) {
  switch (field.scalar) {
    case ScalarType.INT64:
    case ScalarType.SFIXED64:
    case ScalarType.SINT64:
      if ("longAsString" in field && field.longAsString) {
        value = String(value);
      } else if (typeof value == "string" || typeof value == "number") {
        value = protoInt64.parse(value);
      }
      break;
    case ScalarType.FIXED64:
    case ScalarType.UINT64:
      if ("longAsString" in field && field.longAsString) {
        value = String(value);
      } else if (typeof value == "string" || typeof value == "number") {
        value = protoInt64.uParse(value);
      }
      break;
  }
  return value;
}
function wktStructToReflect(json) {
  const struct = {
    $typeName: "google.protobuf.Struct",
    fields: {}
  };
  if (isObject(json)) {
    for (const [k, v] of Object.entries(json)) {
      struct.fields[k] = wktValueToReflect(v);
    }
  }
  return struct;
}
function wktStructToLocal(val) {
  const json = {};
  for (const [k, v] of Object.entries(val.fields)) {
    json[k] = wktValueToLocal(v);
  }
  return json;
}
function wktValueToLocal(val) {
  switch (val.kind.case) {
    case "structValue":
      return wktStructToLocal(val.kind.value);
    case "listValue":
      return val.kind.value.values.map(wktValueToLocal);
    case "nullValue":
    case void 0:
      return null;
    default:
      return val.kind.value;
  }
}
function wktValueToReflect(json) {
  const value = {
    $typeName: "google.protobuf.Value",
    kind: { case: void 0 }
  };
  switch (typeof json) {
    case "number":
      value.kind = { case: "numberValue", value: json };
      break;
    case "string":
      value.kind = { case: "stringValue", value: json };
      break;
    case "boolean":
      value.kind = { case: "boolValue", value: json };
      break;
    case "object":
      if (json === null) {
        value.kind = { case: "nullValue", value: NULL_VALUE };
      } else if (Array.isArray(json)) {
        const listValue = {
          $typeName: "google.protobuf.ListValue",
          values: []
        };
        if (Array.isArray(json)) {
          for (const e of json) {
            listValue.values.push(wktValueToReflect(e));
          }
        }
        value.kind = {
          case: "listValue",
          value: listValue
        };
      } else {
        value.kind = {
          case: "structValue",
          value: wktStructToReflect(json)
        };
      }
      break;
  }
  return value;
}

// node_modules/@bufbuild/protobuf/dist/esm/wire/base64-encoding.js
function base64Decode(base64Str) {
  const table = getDecodeTable();
  let es = base64Str.length * 3 / 4;
  if (base64Str[base64Str.length - 2] == "=")
    es -= 2;
  else if (base64Str[base64Str.length - 1] == "=")
    es -= 1;
  let bytes = new Uint8Array(es), bytePos = 0, groupPos = 0, b, p = 0;
  for (let i = 0; i < base64Str.length; i++) {
    b = table[base64Str.charCodeAt(i)];
    if (b === void 0) {
      switch (base64Str[i]) {
        // @ts-ignore TS7029: Fallthrough case in switch -- ignore instead of expect-error for compiler settings without noFallthroughCasesInSwitch: true
        case "=":
          groupPos = 0;
        // reset state when padding found
        case "\n":
        case "\r":
        case "	":
        case " ":
          continue;
        // skip white-space, and padding
        default:
          throw Error("invalid base64 string");
      }
    }
    switch (groupPos) {
      case 0:
        p = b;
        groupPos = 1;
        break;
      case 1:
        bytes[bytePos++] = p << 2 | (b & 48) >> 4;
        p = b;
        groupPos = 2;
        break;
      case 2:
        bytes[bytePos++] = (p & 15) << 4 | (b & 60) >> 2;
        p = b;
        groupPos = 3;
        break;
      case 3:
        bytes[bytePos++] = (p & 3) << 6 | b;
        groupPos = 0;
        break;
    }
  }
  if (groupPos == 1)
    throw Error("invalid base64 string");
  return bytes.subarray(0, bytePos);
}
function base64Encode(bytes, encoding = "std") {
  const table = getEncodeTable(encoding);
  const pad = encoding == "std";
  let base64 = "", groupPos = 0, b, p = 0;
  for (let i = 0; i < bytes.length; i++) {
    b = bytes[i];
    switch (groupPos) {
      case 0:
        base64 += table[b >> 2];
        p = (b & 3) << 4;
        groupPos = 1;
        break;
      case 1:
        base64 += table[p | b >> 4];
        p = (b & 15) << 2;
        groupPos = 2;
        break;
      case 2:
        base64 += table[p | b >> 6];
        base64 += table[b & 63];
        groupPos = 0;
        break;
    }
  }
  if (groupPos) {
    base64 += table[p];
    if (pad) {
      base64 += "=";
      if (groupPos == 1)
        base64 += "=";
    }
  }
  return base64;
}
var encodeTableStd;
var encodeTableUrl;
var decodeTable;
function getEncodeTable(encoding) {
  if (!encodeTableStd) {
    encodeTableStd = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".split("");
    encodeTableUrl = encodeTableStd.slice(0, -2).concat("-", "_");
  }
  return encoding == "url" ? (
    // biome-ignore lint/style/noNonNullAssertion: TS fails to narrow down
    encodeTableUrl
  ) : encodeTableStd;
}
function getDecodeTable() {
  if (!decodeTable) {
    decodeTable = [];
    const encodeTable = getEncodeTable("std");
    for (let i = 0; i < encodeTable.length; i++)
      decodeTable[encodeTable[i].charCodeAt(0)] = i;
    decodeTable["-".charCodeAt(0)] = encodeTable.indexOf("+");
    decodeTable["_".charCodeAt(0)] = encodeTable.indexOf("/");
  }
  return decodeTable;
}

// node_modules/@bufbuild/protobuf/dist/esm/reflect/names.js
function protoCamelCase(snakeCase) {
  let capNext = false;
  const b = [];
  for (let i = 0; i < snakeCase.length; i++) {
    let c = snakeCase.charAt(i);
    switch (c) {
      case "_":
        capNext = true;
        break;
      case "0":
      case "1":
      case "2":
      case "3":
      case "4":
      case "5":
      case "6":
      case "7":
      case "8":
      case "9":
        b.push(c);
        capNext = false;
        break;
      default:
        if (capNext) {
          capNext = false;
          c = c.toUpperCase();
        }
        b.push(c);
        break;
    }
  }
  return b.join("");
}
function protoSnakeCase(lowerCamelCase) {
  return lowerCamelCase.replace(/[A-Z]/g, (letter) => "_" + letter.toLowerCase());
}
var reservedObjectProperties = /* @__PURE__ */ new Set([
  // names reserved by JavaScript
  "constructor",
  "toString",
  "toJSON",
  "valueOf"
]);
function safeObjectProperty(name2) {
  return reservedObjectProperties.has(name2) ? name2 + "$" : name2;
}

// node_modules/@bufbuild/protobuf/dist/esm/codegenv2/restore-json-names.js
function restoreJsonNames(message) {
  for (const f of message.field) {
    if (!unsafeIsSetExplicit(f, "jsonName")) {
      f.jsonName = protoCamelCase(f.name);
    }
  }
  message.nestedType.forEach(restoreJsonNames);
}

// node_modules/@bufbuild/protobuf/dist/esm/wire/text-format.js
function parseTextFormatEnumValue(descEnum, value) {
  const enumValue = descEnum.values.find((v) => v.name === value);
  if (!enumValue) {
    throw new Error(`cannot parse ${descEnum} default value: ${value}`);
  }
  return enumValue.number;
}
function parseTextFormatScalarValue(type, value) {
  switch (type) {
    case ScalarType.STRING:
      return value;
    case ScalarType.BYTES: {
      const u = unescapeBytesDefaultValue(value);
      if (u === false) {
        throw new Error(`cannot parse ${ScalarType[type]} default value: ${value}`);
      }
      return u;
    }
    case ScalarType.INT64:
    case ScalarType.SFIXED64:
    case ScalarType.SINT64:
      return protoInt64.parse(value);
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      return protoInt64.uParse(value);
    case ScalarType.DOUBLE:
    case ScalarType.FLOAT:
      switch (value) {
        case "inf":
          return Number.POSITIVE_INFINITY;
        case "-inf":
          return Number.NEGATIVE_INFINITY;
        case "nan":
          return Number.NaN;
        default:
          return parseFloat(value);
      }
    case ScalarType.BOOL:
      return value === "true";
    case ScalarType.INT32:
    case ScalarType.UINT32:
    case ScalarType.SINT32:
    case ScalarType.FIXED32:
    case ScalarType.SFIXED32:
      return parseInt(value, 10);
  }
}
function unescapeBytesDefaultValue(str) {
  const b = [];
  const input = {
    tail: str,
    c: "",
    next() {
      if (this.tail.length == 0) {
        return false;
      }
      this.c = this.tail[0];
      this.tail = this.tail.substring(1);
      return true;
    },
    take(n) {
      if (this.tail.length >= n) {
        const r = this.tail.substring(0, n);
        this.tail = this.tail.substring(n);
        return r;
      }
      return false;
    }
  };
  while (input.next()) {
    switch (input.c) {
      case "\\":
        if (input.next()) {
          switch (input.c) {
            case "\\":
              b.push(input.c.charCodeAt(0));
              break;
            case "b":
              b.push(8);
              break;
            case "f":
              b.push(12);
              break;
            case "n":
              b.push(10);
              break;
            case "r":
              b.push(13);
              break;
            case "t":
              b.push(9);
              break;
            case "v":
              b.push(11);
              break;
            case "0":
            case "1":
            case "2":
            case "3":
            case "4":
            case "5":
            case "6":
            case "7": {
              const s = input.c;
              const t = input.take(2);
              if (t === false) {
                return false;
              }
              const n = parseInt(s + t, 8);
              if (Number.isNaN(n)) {
                return false;
              }
              b.push(n);
              break;
            }
            case "x": {
              const s = input.c;
              const t = input.take(2);
              if (t === false) {
                return false;
              }
              const n = parseInt(s + t, 16);
              if (Number.isNaN(n)) {
                return false;
              }
              b.push(n);
              break;
            }
            case "u": {
              const s = input.c;
              const t = input.take(4);
              if (t === false) {
                return false;
              }
              const n = parseInt(s + t, 16);
              if (Number.isNaN(n)) {
                return false;
              }
              const chunk = new Uint8Array(4);
              const view = new DataView(chunk.buffer);
              view.setInt32(0, n, true);
              b.push(chunk[0], chunk[1], chunk[2], chunk[3]);
              break;
            }
            case "U": {
              const s = input.c;
              const t = input.take(8);
              if (t === false) {
                return false;
              }
              const tc = protoInt64.uEnc(s + t);
              const chunk = new Uint8Array(8);
              const view = new DataView(chunk.buffer);
              view.setInt32(0, tc.lo, true);
              view.setInt32(4, tc.hi, true);
              b.push(chunk[0], chunk[1], chunk[2], chunk[3], chunk[4], chunk[5], chunk[6], chunk[7]);
              break;
            }
          }
        }
        break;
      default:
        b.push(input.c.charCodeAt(0));
    }
  }
  return new Uint8Array(b);
}

// node_modules/@bufbuild/protobuf/dist/esm/reflect/nested-types.js
function* nestedTypes(desc) {
  switch (desc.kind) {
    case "file":
      for (const message of desc.messages) {
        yield message;
        yield* nestedTypes(message);
      }
      yield* desc.enums;
      yield* desc.services;
      yield* desc.extensions;
      break;
    case "message":
      for (const message of desc.nestedMessages) {
        yield message;
        yield* nestedTypes(message);
      }
      yield* desc.nestedEnums;
      yield* desc.nestedExtensions;
      break;
  }
}

// node_modules/@bufbuild/protobuf/dist/esm/registry.js
function createFileRegistry(...args) {
  const registry = createBaseRegistry();
  if (!args.length) {
    return registry;
  }
  if ("$typeName" in args[0] && args[0].$typeName == "google.protobuf.FileDescriptorSet") {
    for (const file of args[0].file) {
      addFile(file, registry);
    }
    return registry;
  }
  if ("$typeName" in args[0]) {
    let recurseDeps = function(file) {
      const deps = [];
      for (const protoFileName of file.dependency) {
        if (registry.getFile(protoFileName) != void 0) {
          continue;
        }
        if (seen.has(protoFileName)) {
          continue;
        }
        const dep = resolve(protoFileName);
        if (!dep) {
          throw new Error(`Unable to resolve ${protoFileName}, imported by ${file.name}`);
        }
        if ("kind" in dep) {
          registry.addFile(dep, false, true);
        } else {
          seen.add(dep.name);
          deps.push(dep);
        }
      }
      return deps.concat(...deps.map(recurseDeps));
    };
    const input = args[0];
    const resolve = args[1];
    const seen = /* @__PURE__ */ new Set();
    for (const file of [input, ...recurseDeps(input)].reverse()) {
      addFile(file, registry);
    }
  } else {
    for (const fileReg of args) {
      for (const file of fileReg.files) {
        registry.addFile(file);
      }
    }
  }
  return registry;
}
function createBaseRegistry() {
  const types = /* @__PURE__ */ new Map();
  const extendees = /* @__PURE__ */ new Map();
  const files = /* @__PURE__ */ new Map();
  return {
    kind: "registry",
    types,
    extendees,
    [Symbol.iterator]() {
      return types.values();
    },
    get files() {
      return files.values();
    },
    addFile(file, skipTypes, withDeps) {
      files.set(file.proto.name, file);
      if (!skipTypes) {
        for (const type of nestedTypes(file)) {
          this.add(type);
        }
      }
      if (withDeps) {
        for (const f of file.dependencies) {
          this.addFile(f, skipTypes, withDeps);
        }
      }
    },
    add(desc) {
      if (desc.kind == "extension") {
        let numberToExt = extendees.get(desc.extendee.typeName);
        if (!numberToExt) {
          extendees.set(
            desc.extendee.typeName,
            // biome-ignore lint/suspicious/noAssignInExpressions: no
            numberToExt = /* @__PURE__ */ new Map()
          );
        }
        numberToExt.set(desc.number, desc);
      }
      types.set(desc.typeName, desc);
    },
    get(typeName) {
      return types.get(typeName);
    },
    getFile(fileName) {
      return files.get(fileName);
    },
    getMessage(typeName) {
      const t = types.get(typeName);
      return (t === null || t === void 0 ? void 0 : t.kind) == "message" ? t : void 0;
    },
    getEnum(typeName) {
      const t = types.get(typeName);
      return (t === null || t === void 0 ? void 0 : t.kind) == "enum" ? t : void 0;
    },
    getExtension(typeName) {
      const t = types.get(typeName);
      return (t === null || t === void 0 ? void 0 : t.kind) == "extension" ? t : void 0;
    },
    getExtensionFor(extendee, no) {
      var _a;
      return (_a = extendees.get(extendee.typeName)) === null || _a === void 0 ? void 0 : _a.get(no);
    },
    getService(typeName) {
      const t = types.get(typeName);
      return (t === null || t === void 0 ? void 0 : t.kind) == "service" ? t : void 0;
    }
  };
}
var EDITION_PROTO22 = 998;
var EDITION_PROTO32 = 999;
var EDITION_UNSTABLE = 9999;
var TYPE_STRING = 9;
var TYPE_GROUP = 10;
var TYPE_MESSAGE = 11;
var TYPE_BYTES = 12;
var TYPE_ENUM = 14;
var LABEL_REPEATED = 3;
var LABEL_REQUIRED = 2;
var JS_STRING = 1;
var IDEMPOTENCY_UNKNOWN = 0;
var EXPLICIT = 1;
var IMPLICIT3 = 2;
var LEGACY_REQUIRED = 3;
var PACKED = 1;
var DELIMITED = 2;
var OPEN = 1;
var VERIFY = 2;
var maximumEdition = 1001;
var featureDefaults = {
  // EDITION_PROTO2
  998: {
    fieldPresence: 1,
    // EXPLICIT,
    enumType: 2,
    // CLOSED,
    repeatedFieldEncoding: 2,
    // EXPANDED,
    utf8Validation: 3,
    // NONE,
    messageEncoding: 1,
    // LENGTH_PREFIXED,
    jsonFormat: 2,
    // LEGACY_BEST_EFFORT,
    enforceNamingStyle: 2,
    // STYLE_LEGACY,
    defaultSymbolVisibility: 1
    // EXPORT_ALL,
  },
  // EDITION_PROTO3
  999: {
    fieldPresence: 2,
    // IMPLICIT,
    enumType: 1,
    // OPEN,
    repeatedFieldEncoding: 1,
    // PACKED,
    utf8Validation: 2,
    // VERIFY,
    messageEncoding: 1,
    // LENGTH_PREFIXED,
    jsonFormat: 1,
    // ALLOW,
    enforceNamingStyle: 2,
    // STYLE_LEGACY,
    defaultSymbolVisibility: 1
    // EXPORT_ALL,
  },
  // EDITION_2023
  1e3: {
    fieldPresence: 1,
    // EXPLICIT,
    enumType: 1,
    // OPEN,
    repeatedFieldEncoding: 1,
    // PACKED,
    utf8Validation: 2,
    // VERIFY,
    messageEncoding: 1,
    // LENGTH_PREFIXED,
    jsonFormat: 1,
    // ALLOW,
    enforceNamingStyle: 2,
    // STYLE_LEGACY,
    defaultSymbolVisibility: 1
    // EXPORT_ALL,
  },
  // EDITION_2024
  1001: {
    fieldPresence: 1,
    // EXPLICIT,
    enumType: 1,
    // OPEN,
    repeatedFieldEncoding: 1,
    // PACKED,
    utf8Validation: 2,
    // VERIFY,
    messageEncoding: 1,
    // LENGTH_PREFIXED,
    jsonFormat: 1,
    // ALLOW,
    enforceNamingStyle: 1,
    // STYLE2024,
    defaultSymbolVisibility: 2
    // EXPORT_TOP_LEVEL,
  }
};
function addFile(proto, reg) {
  var _a, _b;
  const file = {
    kind: "file",
    proto,
    deprecated: (_b = (_a = proto.options) === null || _a === void 0 ? void 0 : _a.deprecated) !== null && _b !== void 0 ? _b : false,
    edition: getFileEdition(proto),
    name: proto.name.replace(/\.proto$/, ""),
    dependencies: findFileDependencies(proto, reg),
    enums: [],
    messages: [],
    extensions: [],
    services: [],
    toString() {
      return `file ${proto.name}`;
    }
  };
  const mapEntriesStore = /* @__PURE__ */ new Map();
  const mapEntries = {
    get(typeName) {
      return mapEntriesStore.get(typeName);
    },
    add(desc) {
      var _a2;
      assert(((_a2 = desc.proto.options) === null || _a2 === void 0 ? void 0 : _a2.mapEntry) === true);
      mapEntriesStore.set(desc.typeName, desc);
    }
  };
  for (const enumProto of proto.enumType) {
    addEnum(enumProto, file, void 0, reg);
  }
  for (const messageProto of proto.messageType) {
    addMessage(messageProto, file, void 0, reg, mapEntries);
  }
  for (const serviceProto of proto.service) {
    addService(serviceProto, file, reg);
  }
  addExtensions(file, reg);
  for (const mapEntry of mapEntriesStore.values()) {
    addFields(mapEntry, reg, mapEntries);
  }
  for (const message of file.messages) {
    addFields(message, reg, mapEntries);
    addExtensions(message, reg);
  }
  reg.addFile(file, true);
}
function addExtensions(desc, reg) {
  switch (desc.kind) {
    case "file":
      for (const proto of desc.proto.extension) {
        const ext = newField(proto, desc, reg);
        desc.extensions.push(ext);
        reg.add(ext);
      }
      break;
    case "message":
      for (const proto of desc.proto.extension) {
        const ext = newField(proto, desc, reg);
        desc.nestedExtensions.push(ext);
        reg.add(ext);
      }
      for (const message of desc.nestedMessages) {
        addExtensions(message, reg);
      }
      break;
  }
}
function addFields(message, reg, mapEntries) {
  const allOneofs = message.proto.oneofDecl.map((proto) => newOneof(proto, message));
  const oneofsSeen = /* @__PURE__ */ new Set();
  for (const proto of message.proto.field) {
    const oneof = findOneof(proto, allOneofs);
    const field = newField(proto, message, reg, oneof, mapEntries);
    message.fields.push(field);
    message.field[field.localName] = field;
    if (oneof === void 0) {
      message.members.push(field);
    } else {
      oneof.fields.push(field);
      if (!oneofsSeen.has(oneof)) {
        oneofsSeen.add(oneof);
        message.members.push(oneof);
      }
    }
  }
  for (const oneof of allOneofs.filter((o) => oneofsSeen.has(o))) {
    message.oneofs.push(oneof);
  }
  for (const child of message.nestedMessages) {
    addFields(child, reg, mapEntries);
  }
}
function addEnum(proto, file, parent, reg) {
  var _a, _b, _c, _d, _e;
  const sharedPrefix = findEnumSharedPrefix(proto.name, proto.value);
  const desc = {
    kind: "enum",
    proto,
    deprecated: (_b = (_a = proto.options) === null || _a === void 0 ? void 0 : _a.deprecated) !== null && _b !== void 0 ? _b : false,
    file,
    parent,
    open: true,
    name: proto.name,
    typeName: makeTypeName(proto, parent, file),
    value: {},
    values: [],
    sharedPrefix,
    toString() {
      return `enum ${this.typeName}`;
    }
  };
  desc.open = isEnumOpen(desc);
  reg.add(desc);
  for (const p of proto.value) {
    const name2 = p.name;
    desc.values.push(
      // biome-ignore lint/suspicious/noAssignInExpressions: no
      desc.value[p.number] = {
        kind: "enum_value",
        proto: p,
        deprecated: (_d = (_c = p.options) === null || _c === void 0 ? void 0 : _c.deprecated) !== null && _d !== void 0 ? _d : false,
        parent: desc,
        name: name2,
        localName: safeObjectProperty(sharedPrefix == void 0 ? name2 : name2.substring(sharedPrefix.length)),
        number: p.number,
        toString() {
          return `enum value ${desc.typeName}.${name2}`;
        }
      }
    );
  }
  ((_e = parent === null || parent === void 0 ? void 0 : parent.nestedEnums) !== null && _e !== void 0 ? _e : file.enums).push(desc);
}
function addMessage(proto, file, parent, reg, mapEntries) {
  var _a, _b, _c, _d;
  const desc = {
    kind: "message",
    proto,
    deprecated: (_b = (_a = proto.options) === null || _a === void 0 ? void 0 : _a.deprecated) !== null && _b !== void 0 ? _b : false,
    file,
    parent,
    name: proto.name,
    typeName: makeTypeName(proto, parent, file),
    fields: [],
    field: {},
    oneofs: [],
    members: [],
    nestedEnums: [],
    nestedMessages: [],
    nestedExtensions: [],
    toString() {
      return `message ${this.typeName}`;
    }
  };
  if (((_c = proto.options) === null || _c === void 0 ? void 0 : _c.mapEntry) === true) {
    mapEntries.add(desc);
  } else {
    ((_d = parent === null || parent === void 0 ? void 0 : parent.nestedMessages) !== null && _d !== void 0 ? _d : file.messages).push(desc);
    reg.add(desc);
  }
  for (const enumProto of proto.enumType) {
    addEnum(enumProto, file, desc, reg);
  }
  for (const messageProto of proto.nestedType) {
    addMessage(messageProto, file, desc, reg, mapEntries);
  }
}
function addService(proto, file, reg) {
  var _a, _b;
  const desc = {
    kind: "service",
    proto,
    deprecated: (_b = (_a = proto.options) === null || _a === void 0 ? void 0 : _a.deprecated) !== null && _b !== void 0 ? _b : false,
    file,
    name: proto.name,
    typeName: makeTypeName(proto, void 0, file),
    methods: [],
    method: {},
    toString() {
      return `service ${this.typeName}`;
    }
  };
  file.services.push(desc);
  reg.add(desc);
  for (const methodProto of proto.method) {
    const method = newMethod(methodProto, desc, reg);
    desc.methods.push(method);
    desc.method[method.localName] = method;
  }
}
function newMethod(proto, parent, reg) {
  var _a, _b, _c, _d;
  let methodKind;
  if (proto.clientStreaming && proto.serverStreaming) {
    methodKind = "bidi_streaming";
  } else if (proto.clientStreaming) {
    methodKind = "client_streaming";
  } else if (proto.serverStreaming) {
    methodKind = "server_streaming";
  } else {
    methodKind = "unary";
  }
  const input = reg.getMessage(trimLeadingDot(proto.inputType));
  const output = reg.getMessage(trimLeadingDot(proto.outputType));
  assert(input, `invalid MethodDescriptorProto: input_type ${proto.inputType} not found`);
  assert(output, `invalid MethodDescriptorProto: output_type ${proto.inputType} not found`);
  const name2 = proto.name;
  return {
    kind: "rpc",
    proto,
    deprecated: (_b = (_a = proto.options) === null || _a === void 0 ? void 0 : _a.deprecated) !== null && _b !== void 0 ? _b : false,
    parent,
    name: name2,
    localName: safeObjectProperty(name2.length ? safeObjectProperty(name2[0].toLowerCase() + name2.substring(1)) : name2),
    methodKind,
    input,
    output,
    idempotency: (_d = (_c = proto.options) === null || _c === void 0 ? void 0 : _c.idempotencyLevel) !== null && _d !== void 0 ? _d : IDEMPOTENCY_UNKNOWN,
    toString() {
      return `rpc ${parent.typeName}.${name2}`;
    }
  };
}
function newOneof(proto, parent) {
  return {
    kind: "oneof",
    proto,
    deprecated: false,
    parent,
    fields: [],
    name: proto.name,
    localName: safeObjectProperty(protoCamelCase(proto.name)),
    toString() {
      return `oneof ${parent.typeName}.${this.name}`;
    }
  };
}
function newField(proto, parentOrFile, reg, oneof, mapEntries) {
  var _a, _b, _c;
  const isExtension = mapEntries === void 0;
  const field = {
    kind: "field",
    proto,
    deprecated: (_b = (_a = proto.options) === null || _a === void 0 ? void 0 : _a.deprecated) !== null && _b !== void 0 ? _b : false,
    name: proto.name,
    number: proto.number,
    scalar: void 0,
    message: void 0,
    enum: void 0,
    presence: getFieldPresence(proto, oneof, isExtension, parentOrFile),
    utf8Validation: isUtf8Validated(proto, parentOrFile),
    listKind: void 0,
    mapKind: void 0,
    mapKey: void 0,
    delimitedEncoding: void 0,
    packed: void 0,
    longAsString: false,
    getDefaultValue: void 0
  };
  if (isExtension) {
    const file = parentOrFile.kind == "file" ? parentOrFile : parentOrFile.file;
    const parent = parentOrFile.kind == "file" ? void 0 : parentOrFile;
    const typeName = makeTypeName(proto, parent, file);
    field.kind = "extension";
    field.file = file;
    field.parent = parent;
    field.oneof = void 0;
    field.typeName = typeName;
    field.jsonName = `[${typeName}]`;
    field.toString = () => `extension ${typeName}`;
    const extendee = reg.getMessage(trimLeadingDot(proto.extendee));
    assert(extendee, `invalid FieldDescriptorProto: extendee ${proto.extendee} not found`);
    field.extendee = extendee;
  } else {
    const parent = parentOrFile;
    assert(parent.kind == "message");
    field.parent = parent;
    field.oneof = oneof;
    field.localName = oneof ? protoCamelCase(proto.name) : safeObjectProperty(protoCamelCase(proto.name));
    field.jsonName = proto.jsonName;
    field.toString = () => `field ${parent.typeName}.${proto.name}`;
  }
  const label = proto.label;
  const type = proto.type;
  const jstype = (_c = proto.options) === null || _c === void 0 ? void 0 : _c.jstype;
  if (label === LABEL_REPEATED) {
    const mapEntry = type == TYPE_MESSAGE ? mapEntries === null || mapEntries === void 0 ? void 0 : mapEntries.get(trimLeadingDot(proto.typeName)) : void 0;
    if (mapEntry) {
      field.fieldKind = "map";
      const { key, value } = findMapEntryFields(mapEntry);
      field.mapKey = key.scalar;
      field.mapKind = value.fieldKind;
      field.message = value.message;
      field.delimitedEncoding = false;
      field.enum = value.enum;
      field.scalar = value.scalar;
      return field;
    }
    field.fieldKind = "list";
    switch (type) {
      case TYPE_MESSAGE:
      case TYPE_GROUP:
        field.listKind = "message";
        field.message = reg.getMessage(trimLeadingDot(proto.typeName));
        assert(field.message);
        field.delimitedEncoding = isDelimitedEncoding(proto, parentOrFile);
        break;
      case TYPE_ENUM:
        field.listKind = "enum";
        field.enum = reg.getEnum(trimLeadingDot(proto.typeName));
        assert(field.enum);
        break;
      default:
        field.listKind = "scalar";
        field.scalar = type;
        field.longAsString = jstype == JS_STRING;
        break;
    }
    field.packed = isPackedField(proto, parentOrFile);
    return field;
  }
  switch (type) {
    case TYPE_MESSAGE:
    case TYPE_GROUP:
      field.fieldKind = "message";
      field.message = reg.getMessage(trimLeadingDot(proto.typeName));
      assert(field.message, `invalid FieldDescriptorProto: type_name ${proto.typeName} not found`);
      field.delimitedEncoding = isDelimitedEncoding(proto, parentOrFile);
      field.getDefaultValue = () => void 0;
      break;
    case TYPE_ENUM: {
      const enumeration = reg.getEnum(trimLeadingDot(proto.typeName));
      assert(enumeration !== void 0, `invalid FieldDescriptorProto: type_name ${proto.typeName} not found`);
      field.fieldKind = "enum";
      field.enum = reg.getEnum(trimLeadingDot(proto.typeName));
      field.getDefaultValue = () => {
        return unsafeIsSetExplicit(proto, "defaultValue") ? parseTextFormatEnumValue(enumeration, proto.defaultValue) : void 0;
      };
      break;
    }
    default: {
      field.fieldKind = "scalar";
      field.scalar = type;
      field.longAsString = jstype == JS_STRING;
      field.getDefaultValue = () => {
        return unsafeIsSetExplicit(proto, "defaultValue") ? parseTextFormatScalarValue(type, proto.defaultValue) : void 0;
      };
      break;
    }
  }
  return field;
}
function getFileEdition(proto) {
  switch (proto.syntax) {
    case "":
    case "proto2":
      return EDITION_PROTO22;
    case "proto3":
      return EDITION_PROTO32;
    case "editions":
      if (proto.edition === EDITION_UNSTABLE) {
        return maximumEdition;
      }
      if (proto.edition in featureDefaults) {
        return proto.edition;
      }
      throw new Error(`${proto.name}: unsupported edition`);
    default:
      throw new Error(`${proto.name}: unsupported syntax "${proto.syntax}"`);
  }
}
function findFileDependencies(proto, reg) {
  return proto.dependency.map((wantName) => {
    const dep = reg.getFile(wantName);
    if (!dep) {
      throw new Error(`Cannot find ${wantName}, imported by ${proto.name}`);
    }
    return dep;
  });
}
function findEnumSharedPrefix(enumName, values) {
  const prefix = camelToSnakeCase(enumName) + "_";
  for (const value of values) {
    if (!value.name.toLowerCase().startsWith(prefix)) {
      return void 0;
    }
    const shortName = value.name.substring(prefix.length);
    if (shortName.length == 0) {
      return void 0;
    }
    if (/^\d/.test(shortName)) {
      return void 0;
    }
  }
  return prefix;
}
function camelToSnakeCase(camel) {
  return (camel.substring(0, 1) + camel.substring(1).replace(/[A-Z]/g, (c) => "_" + c)).toLowerCase();
}
function makeTypeName(proto, parent, file) {
  let typeName;
  if (parent) {
    typeName = `${parent.typeName}.${proto.name}`;
  } else if (file.proto.package.length > 0) {
    typeName = `${file.proto.package}.${proto.name}`;
  } else {
    typeName = `${proto.name}`;
  }
  return typeName;
}
function trimLeadingDot(typeName) {
  return typeName.startsWith(".") ? typeName.substring(1) : typeName;
}
function findOneof(proto, allOneofs) {
  if (!unsafeIsSetExplicit(proto, "oneofIndex")) {
    return void 0;
  }
  if (proto.proto3Optional) {
    return void 0;
  }
  const oneof = allOneofs[proto.oneofIndex];
  assert(oneof, `invalid FieldDescriptorProto: oneof #${proto.oneofIndex} for field #${proto.number} not found`);
  return oneof;
}
function getFieldPresence(proto, oneof, isExtension, parent) {
  if (proto.label == LABEL_REQUIRED) {
    return LEGACY_REQUIRED;
  }
  if (proto.label == LABEL_REPEATED) {
    return IMPLICIT3;
  }
  if (!!oneof || proto.proto3Optional) {
    return EXPLICIT;
  }
  if (isExtension) {
    return EXPLICIT;
  }
  const resolved = resolveFeature("fieldPresence", { proto, parent });
  if (resolved == IMPLICIT3 && (proto.type == TYPE_MESSAGE || proto.type == TYPE_GROUP)) {
    return EXPLICIT;
  }
  return resolved;
}
function isPackedField(proto, parent) {
  if (proto.label != LABEL_REPEATED) {
    return false;
  }
  switch (proto.type) {
    case TYPE_STRING:
    case TYPE_BYTES:
    case TYPE_GROUP:
    case TYPE_MESSAGE:
      return false;
  }
  const o = proto.options;
  if (o && unsafeIsSetExplicit(o, "packed")) {
    return o.packed;
  }
  return PACKED == resolveFeature("repeatedFieldEncoding", {
    proto,
    parent
  });
}
function findMapEntryFields(mapEntry) {
  const key = mapEntry.fields.find((f) => f.number === 1);
  const value = mapEntry.fields.find((f) => f.number === 2);
  assert(key && key.fieldKind == "scalar" && key.scalar != ScalarType.BYTES && key.scalar != ScalarType.FLOAT && key.scalar != ScalarType.DOUBLE && value && value.fieldKind != "list" && value.fieldKind != "map");
  return { key, value };
}
function isEnumOpen(desc) {
  var _a;
  return OPEN == resolveFeature("enumType", {
    proto: desc.proto,
    parent: (_a = desc.parent) !== null && _a !== void 0 ? _a : desc.file
  });
}
function isDelimitedEncoding(proto, parent) {
  if (proto.type == TYPE_GROUP) {
    return true;
  }
  return DELIMITED == resolveFeature("messageEncoding", {
    proto,
    parent
  });
}
function isUtf8Validated(proto, parent) {
  return VERIFY == resolveFeature("utf8Validation", {
    proto,
    parent
  });
}
function resolveFeature(name2, ref) {
  var _a, _b;
  const featureSet = (_a = ref.proto.options) === null || _a === void 0 ? void 0 : _a.features;
  if (featureSet) {
    const val = featureSet[name2];
    if (val != 0) {
      return val;
    }
  }
  if ("kind" in ref) {
    if (ref.kind == "message") {
      return resolveFeature(name2, (_b = ref.parent) !== null && _b !== void 0 ? _b : ref.file);
    }
    const editionDefaults = featureDefaults[ref.edition];
    if (!editionDefaults) {
      throw new Error(`feature default for edition ${ref.edition} not found`);
    }
    return editionDefaults[name2];
  }
  return resolveFeature(name2, ref.parent);
}
function assert(condition, msg) {
  if (!condition) {
    throw new Error(msg);
  }
}

// node_modules/@bufbuild/protobuf/dist/esm/codegenv2/boot.js
function boot(boot2) {
  const root2 = bootFileDescriptorProto(boot2);
  root2.messageType.forEach(restoreJsonNames);
  const reg = createFileRegistry(root2, () => void 0);
  return reg.getFile(root2.name);
}
function bootFileDescriptorProto(init) {
  const proto = /* @__PURE__ */ Object.create({
    syntax: "",
    edition: 0
  });
  return Object.assign(proto, Object.assign(Object.assign({ $typeName: "google.protobuf.FileDescriptorProto", dependency: [], publicDependency: [], weakDependency: [], optionDependency: [], service: [], extension: [] }, init), { messageType: init.messageType.map(bootDescriptorProto), enumType: init.enumType.map(bootEnumDescriptorProto) }));
}
function bootDescriptorProto(init) {
  var _a, _b, _c, _d, _e, _f, _g, _h;
  const proto = /* @__PURE__ */ Object.create({
    visibility: 0
  });
  return Object.assign(proto, {
    $typeName: "google.protobuf.DescriptorProto",
    name: init.name,
    field: (_b = (_a = init.field) === null || _a === void 0 ? void 0 : _a.map(bootFieldDescriptorProto)) !== null && _b !== void 0 ? _b : [],
    extension: [],
    nestedType: (_d = (_c = init.nestedType) === null || _c === void 0 ? void 0 : _c.map(bootDescriptorProto)) !== null && _d !== void 0 ? _d : [],
    enumType: (_f = (_e = init.enumType) === null || _e === void 0 ? void 0 : _e.map(bootEnumDescriptorProto)) !== null && _f !== void 0 ? _f : [],
    extensionRange: (_h = (_g = init.extensionRange) === null || _g === void 0 ? void 0 : _g.map((e) => Object.assign({ $typeName: "google.protobuf.DescriptorProto.ExtensionRange" }, e))) !== null && _h !== void 0 ? _h : [],
    oneofDecl: [],
    reservedRange: [],
    reservedName: []
  });
}
function bootFieldDescriptorProto(init) {
  const proto = /* @__PURE__ */ Object.create({
    label: 1,
    typeName: "",
    extendee: "",
    defaultValue: "",
    oneofIndex: 0,
    jsonName: "",
    proto3Optional: false
  });
  return Object.assign(proto, Object.assign(Object.assign({ $typeName: "google.protobuf.FieldDescriptorProto" }, init), { options: init.options ? bootFieldOptions(init.options) : void 0 }));
}
function bootFieldOptions(init) {
  var _a, _b, _c;
  const proto = /* @__PURE__ */ Object.create({
    ctype: 0,
    packed: false,
    jstype: 0,
    lazy: false,
    unverifiedLazy: false,
    deprecated: false,
    weak: false,
    debugRedact: false,
    retention: 0
  });
  return Object.assign(proto, Object.assign(Object.assign({ $typeName: "google.protobuf.FieldOptions" }, init), { targets: (_a = init.targets) !== null && _a !== void 0 ? _a : [], editionDefaults: (_c = (_b = init.editionDefaults) === null || _b === void 0 ? void 0 : _b.map((e) => Object.assign({ $typeName: "google.protobuf.FieldOptions.EditionDefault" }, e))) !== null && _c !== void 0 ? _c : [], uninterpretedOption: [] }));
}
function bootEnumDescriptorProto(init) {
  const proto = /* @__PURE__ */ Object.create({
    visibility: 0
  });
  return Object.assign(proto, {
    $typeName: "google.protobuf.EnumDescriptorProto",
    name: init.name,
    reservedName: [],
    reservedRange: [],
    value: init.value.map((e) => Object.assign({ $typeName: "google.protobuf.EnumValueDescriptorProto" }, e))
  });
}

// node_modules/@bufbuild/protobuf/dist/esm/codegenv2/message.js
function messageDesc(file, path, ...paths) {
  return paths.reduce((acc, cur) => acc.nestedMessages[cur], file.messages[path]);
}

// node_modules/@bufbuild/protobuf/dist/esm/wkt/gen/google/protobuf/descriptor_pb.js
var file_google_protobuf_descriptor = /* @__PURE__ */ boot({ "name": "google/protobuf/descriptor.proto", "package": "google.protobuf", "messageType": [{ "name": "FileDescriptorSet", "field": [{ "name": "file", "number": 1, "type": 11, "label": 3, "typeName": ".google.protobuf.FileDescriptorProto" }], "extensionRange": [{ "start": 536e6, "end": 536000001 }] }, { "name": "FileDescriptorProto", "field": [{ "name": "name", "number": 1, "type": 9, "label": 1 }, { "name": "package", "number": 2, "type": 9, "label": 1 }, { "name": "dependency", "number": 3, "type": 9, "label": 3 }, { "name": "public_dependency", "number": 10, "type": 5, "label": 3 }, { "name": "weak_dependency", "number": 11, "type": 5, "label": 3 }, { "name": "option_dependency", "number": 15, "type": 9, "label": 3 }, { "name": "message_type", "number": 4, "type": 11, "label": 3, "typeName": ".google.protobuf.DescriptorProto" }, { "name": "enum_type", "number": 5, "type": 11, "label": 3, "typeName": ".google.protobuf.EnumDescriptorProto" }, { "name": "service", "number": 6, "type": 11, "label": 3, "typeName": ".google.protobuf.ServiceDescriptorProto" }, { "name": "extension", "number": 7, "type": 11, "label": 3, "typeName": ".google.protobuf.FieldDescriptorProto" }, { "name": "options", "number": 8, "type": 11, "label": 1, "typeName": ".google.protobuf.FileOptions" }, { "name": "source_code_info", "number": 9, "type": 11, "label": 1, "typeName": ".google.protobuf.SourceCodeInfo" }, { "name": "syntax", "number": 12, "type": 9, "label": 1 }, { "name": "edition", "number": 14, "type": 14, "label": 1, "typeName": ".google.protobuf.Edition" }] }, { "name": "DescriptorProto", "field": [{ "name": "name", "number": 1, "type": 9, "label": 1 }, { "name": "field", "number": 2, "type": 11, "label": 3, "typeName": ".google.protobuf.FieldDescriptorProto" }, { "name": "extension", "number": 6, "type": 11, "label": 3, "typeName": ".google.protobuf.FieldDescriptorProto" }, { "name": "nested_type", "number": 3, "type": 11, "label": 3, "typeName": ".google.protobuf.DescriptorProto" }, { "name": "enum_type", "number": 4, "type": 11, "label": 3, "typeName": ".google.protobuf.EnumDescriptorProto" }, { "name": "extension_range", "number": 5, "type": 11, "label": 3, "typeName": ".google.protobuf.DescriptorProto.ExtensionRange" }, { "name": "oneof_decl", "number": 8, "type": 11, "label": 3, "typeName": ".google.protobuf.OneofDescriptorProto" }, { "name": "options", "number": 7, "type": 11, "label": 1, "typeName": ".google.protobuf.MessageOptions" }, { "name": "reserved_range", "number": 9, "type": 11, "label": 3, "typeName": ".google.protobuf.DescriptorProto.ReservedRange" }, { "name": "reserved_name", "number": 10, "type": 9, "label": 3 }, { "name": "visibility", "number": 11, "type": 14, "label": 1, "typeName": ".google.protobuf.SymbolVisibility" }], "nestedType": [{ "name": "ExtensionRange", "field": [{ "name": "start", "number": 1, "type": 5, "label": 1 }, { "name": "end", "number": 2, "type": 5, "label": 1 }, { "name": "options", "number": 3, "type": 11, "label": 1, "typeName": ".google.protobuf.ExtensionRangeOptions" }] }, { "name": "ReservedRange", "field": [{ "name": "start", "number": 1, "type": 5, "label": 1 }, { "name": "end", "number": 2, "type": 5, "label": 1 }] }] }, { "name": "ExtensionRangeOptions", "field": [{ "name": "uninterpreted_option", "number": 999, "type": 11, "label": 3, "typeName": ".google.protobuf.UninterpretedOption" }, { "name": "declaration", "number": 2, "type": 11, "label": 3, "typeName": ".google.protobuf.ExtensionRangeOptions.Declaration", "options": { "retention": 2 } }, { "name": "features", "number": 50, "type": 11, "label": 1, "typeName": ".google.protobuf.FeatureSet" }, { "name": "verification", "number": 3, "type": 14, "label": 1, "typeName": ".google.protobuf.ExtensionRangeOptions.VerificationState", "defaultValue": "UNVERIFIED", "options": { "retention": 2 } }], "nestedType": [{ "name": "Declaration", "field": [{ "name": "number", "number": 1, "type": 5, "label": 1 }, { "name": "full_name", "number": 2, "type": 9, "label": 1 }, { "name": "type", "number": 3, "type": 9, "label": 1 }, { "name": "reserved", "number": 5, "type": 8, "label": 1 }, { "name": "repeated", "number": 6, "type": 8, "label": 1 }] }], "enumType": [{ "name": "VerificationState", "value": [{ "name": "DECLARATION", "number": 0 }, { "name": "UNVERIFIED", "number": 1 }] }], "extensionRange": [{ "start": 1e3, "end": 536870912 }] }, { "name": "FieldDescriptorProto", "field": [{ "name": "name", "number": 1, "type": 9, "label": 1 }, { "name": "number", "number": 3, "type": 5, "label": 1 }, { "name": "label", "number": 4, "type": 14, "label": 1, "typeName": ".google.protobuf.FieldDescriptorProto.Label" }, { "name": "type", "number": 5, "type": 14, "label": 1, "typeName": ".google.protobuf.FieldDescriptorProto.Type" }, { "name": "type_name", "number": 6, "type": 9, "label": 1 }, { "name": "extendee", "number": 2, "type": 9, "label": 1 }, { "name": "default_value", "number": 7, "type": 9, "label": 1 }, { "name": "oneof_index", "number": 9, "type": 5, "label": 1 }, { "name": "json_name", "number": 10, "type": 9, "label": 1 }, { "name": "options", "number": 8, "type": 11, "label": 1, "typeName": ".google.protobuf.FieldOptions" }, { "name": "proto3_optional", "number": 17, "type": 8, "label": 1 }], "enumType": [{ "name": "Type", "value": [{ "name": "TYPE_DOUBLE", "number": 1 }, { "name": "TYPE_FLOAT", "number": 2 }, { "name": "TYPE_INT64", "number": 3 }, { "name": "TYPE_UINT64", "number": 4 }, { "name": "TYPE_INT32", "number": 5 }, { "name": "TYPE_FIXED64", "number": 6 }, { "name": "TYPE_FIXED32", "number": 7 }, { "name": "TYPE_BOOL", "number": 8 }, { "name": "TYPE_STRING", "number": 9 }, { "name": "TYPE_GROUP", "number": 10 }, { "name": "TYPE_MESSAGE", "number": 11 }, { "name": "TYPE_BYTES", "number": 12 }, { "name": "TYPE_UINT32", "number": 13 }, { "name": "TYPE_ENUM", "number": 14 }, { "name": "TYPE_SFIXED32", "number": 15 }, { "name": "TYPE_SFIXED64", "number": 16 }, { "name": "TYPE_SINT32", "number": 17 }, { "name": "TYPE_SINT64", "number": 18 }] }, { "name": "Label", "value": [{ "name": "LABEL_OPTIONAL", "number": 1 }, { "name": "LABEL_REPEATED", "number": 3 }, { "name": "LABEL_REQUIRED", "number": 2 }] }] }, { "name": "OneofDescriptorProto", "field": [{ "name": "name", "number": 1, "type": 9, "label": 1 }, { "name": "options", "number": 2, "type": 11, "label": 1, "typeName": ".google.protobuf.OneofOptions" }] }, { "name": "EnumDescriptorProto", "field": [{ "name": "name", "number": 1, "type": 9, "label": 1 }, { "name": "value", "number": 2, "type": 11, "label": 3, "typeName": ".google.protobuf.EnumValueDescriptorProto" }, { "name": "options", "number": 3, "type": 11, "label": 1, "typeName": ".google.protobuf.EnumOptions" }, { "name": "reserved_range", "number": 4, "type": 11, "label": 3, "typeName": ".google.protobuf.EnumDescriptorProto.EnumReservedRange" }, { "name": "reserved_name", "number": 5, "type": 9, "label": 3 }, { "name": "visibility", "number": 6, "type": 14, "label": 1, "typeName": ".google.protobuf.SymbolVisibility" }], "nestedType": [{ "name": "EnumReservedRange", "field": [{ "name": "start", "number": 1, "type": 5, "label": 1 }, { "name": "end", "number": 2, "type": 5, "label": 1 }] }] }, { "name": "EnumValueDescriptorProto", "field": [{ "name": "name", "number": 1, "type": 9, "label": 1 }, { "name": "number", "number": 2, "type": 5, "label": 1 }, { "name": "options", "number": 3, "type": 11, "label": 1, "typeName": ".google.protobuf.EnumValueOptions" }] }, { "name": "ServiceDescriptorProto", "field": [{ "name": "name", "number": 1, "type": 9, "label": 1 }, { "name": "method", "number": 2, "type": 11, "label": 3, "typeName": ".google.protobuf.MethodDescriptorProto" }, { "name": "options", "number": 3, "type": 11, "label": 1, "typeName": ".google.protobuf.ServiceOptions" }] }, { "name": "MethodDescriptorProto", "field": [{ "name": "name", "number": 1, "type": 9, "label": 1 }, { "name": "input_type", "number": 2, "type": 9, "label": 1 }, { "name": "output_type", "number": 3, "type": 9, "label": 1 }, { "name": "options", "number": 4, "type": 11, "label": 1, "typeName": ".google.protobuf.MethodOptions" }, { "name": "client_streaming", "number": 5, "type": 8, "label": 1, "defaultValue": "false" }, { "name": "server_streaming", "number": 6, "type": 8, "label": 1, "defaultValue": "false" }] }, { "name": "FileOptions", "field": [{ "name": "java_package", "number": 1, "type": 9, "label": 1 }, { "name": "java_outer_classname", "number": 8, "type": 9, "label": 1 }, { "name": "java_multiple_files", "number": 10, "type": 8, "label": 1, "defaultValue": "false", "options": {} }, { "name": "java_generate_equals_and_hash", "number": 20, "type": 8, "label": 1, "options": { "deprecated": true } }, { "name": "java_string_check_utf8", "number": 27, "type": 8, "label": 1, "defaultValue": "false" }, { "name": "optimize_for", "number": 9, "type": 14, "label": 1, "typeName": ".google.protobuf.FileOptions.OptimizeMode", "defaultValue": "SPEED" }, { "name": "go_package", "number": 11, "type": 9, "label": 1 }, { "name": "cc_generic_services", "number": 16, "type": 8, "label": 1, "defaultValue": "false" }, { "name": "java_generic_services", "number": 17, "type": 8, "label": 1, "defaultValue": "false" }, { "name": "py_generic_services", "number": 18, "type": 8, "label": 1, "defaultValue": "false" }, { "name": "deprecated", "number": 23, "type": 8, "label": 1, "defaultValue": "false" }, { "name": "cc_enable_arenas", "number": 31, "type": 8, "label": 1, "defaultValue": "true" }, { "name": "objc_class_prefix", "number": 36, "type": 9, "label": 1 }, { "name": "csharp_namespace", "number": 37, "type": 9, "label": 1 }, { "name": "swift_prefix", "number": 39, "type": 9, "label": 1 }, { "name": "php_class_prefix", "number": 40, "type": 9, "label": 1 }, { "name": "php_namespace", "number": 41, "type": 9, "label": 1 }, { "name": "php_metadata_namespace", "number": 44, "type": 9, "label": 1 }, { "name": "ruby_package", "number": 45, "type": 9, "label": 1 }, { "name": "features", "number": 50, "type": 11, "label": 1, "typeName": ".google.protobuf.FeatureSet" }, { "name": "uninterpreted_option", "number": 999, "type": 11, "label": 3, "typeName": ".google.protobuf.UninterpretedOption" }], "enumType": [{ "name": "OptimizeMode", "value": [{ "name": "SPEED", "number": 1 }, { "name": "CODE_SIZE", "number": 2 }, { "name": "LITE_RUNTIME", "number": 3 }] }], "extensionRange": [{ "start": 1e3, "end": 536870912 }] }, { "name": "MessageOptions", "field": [{ "name": "message_set_wire_format", "number": 1, "type": 8, "label": 1, "defaultValue": "false" }, { "name": "no_standard_descriptor_accessor", "number": 2, "type": 8, "label": 1, "defaultValue": "false" }, { "name": "deprecated", "number": 3, "type": 8, "label": 1, "defaultValue": "false" }, { "name": "map_entry", "number": 7, "type": 8, "label": 1 }, { "name": "deprecated_legacy_json_field_conflicts", "number": 11, "type": 8, "label": 1, "options": { "deprecated": true } }, { "name": "features", "number": 12, "type": 11, "label": 1, "typeName": ".google.protobuf.FeatureSet" }, { "name": "uninterpreted_option", "number": 999, "type": 11, "label": 3, "typeName": ".google.protobuf.UninterpretedOption" }], "extensionRange": [{ "start": 1e3, "end": 536870912 }] }, { "name": "FieldOptions", "field": [{ "name": "ctype", "number": 1, "type": 14, "label": 1, "typeName": ".google.protobuf.FieldOptions.CType", "defaultValue": "STRING" }, { "name": "packed", "number": 2, "type": 8, "label": 1 }, { "name": "jstype", "number": 6, "type": 14, "label": 1, "typeName": ".google.protobuf.FieldOptions.JSType", "defaultValue": "JS_NORMAL" }, { "name": "lazy", "number": 5, "type": 8, "label": 1, "defaultValue": "false" }, { "name": "unverified_lazy", "number": 15, "type": 8, "label": 1, "defaultValue": "false" }, { "name": "deprecated", "number": 3, "type": 8, "label": 1, "defaultValue": "false" }, { "name": "weak", "number": 10, "type": 8, "label": 1, "defaultValue": "false", "options": { "deprecated": true } }, { "name": "debug_redact", "number": 16, "type": 8, "label": 1, "defaultValue": "false" }, { "name": "retention", "number": 17, "type": 14, "label": 1, "typeName": ".google.protobuf.FieldOptions.OptionRetention" }, { "name": "targets", "number": 19, "type": 14, "label": 3, "typeName": ".google.protobuf.FieldOptions.OptionTargetType" }, { "name": "edition_defaults", "number": 20, "type": 11, "label": 3, "typeName": ".google.protobuf.FieldOptions.EditionDefault" }, { "name": "features", "number": 21, "type": 11, "label": 1, "typeName": ".google.protobuf.FeatureSet" }, { "name": "feature_support", "number": 22, "type": 11, "label": 1, "typeName": ".google.protobuf.FieldOptions.FeatureSupport" }, { "name": "uninterpreted_option", "number": 999, "type": 11, "label": 3, "typeName": ".google.protobuf.UninterpretedOption" }], "nestedType": [{ "name": "EditionDefault", "field": [{ "name": "edition", "number": 3, "type": 14, "label": 1, "typeName": ".google.protobuf.Edition" }, { "name": "value", "number": 2, "type": 9, "label": 1 }] }, { "name": "FeatureSupport", "field": [{ "name": "edition_introduced", "number": 1, "type": 14, "label": 1, "typeName": ".google.protobuf.Edition" }, { "name": "edition_deprecated", "number": 2, "type": 14, "label": 1, "typeName": ".google.protobuf.Edition" }, { "name": "deprecation_warning", "number": 3, "type": 9, "label": 1 }, { "name": "edition_removed", "number": 4, "type": 14, "label": 1, "typeName": ".google.protobuf.Edition" }, { "name": "removal_error", "number": 5, "type": 9, "label": 1 }] }], "enumType": [{ "name": "CType", "value": [{ "name": "STRING", "number": 0 }, { "name": "CORD", "number": 1 }, { "name": "STRING_PIECE", "number": 2 }] }, { "name": "JSType", "value": [{ "name": "JS_NORMAL", "number": 0 }, { "name": "JS_STRING", "number": 1 }, { "name": "JS_NUMBER", "number": 2 }] }, { "name": "OptionRetention", "value": [{ "name": "RETENTION_UNKNOWN", "number": 0 }, { "name": "RETENTION_RUNTIME", "number": 1 }, { "name": "RETENTION_SOURCE", "number": 2 }] }, { "name": "OptionTargetType", "value": [{ "name": "TARGET_TYPE_UNKNOWN", "number": 0 }, { "name": "TARGET_TYPE_FILE", "number": 1 }, { "name": "TARGET_TYPE_EXTENSION_RANGE", "number": 2 }, { "name": "TARGET_TYPE_MESSAGE", "number": 3 }, { "name": "TARGET_TYPE_FIELD", "number": 4 }, { "name": "TARGET_TYPE_ONEOF", "number": 5 }, { "name": "TARGET_TYPE_ENUM", "number": 6 }, { "name": "TARGET_TYPE_ENUM_ENTRY", "number": 7 }, { "name": "TARGET_TYPE_SERVICE", "number": 8 }, { "name": "TARGET_TYPE_METHOD", "number": 9 }] }], "extensionRange": [{ "start": 1e3, "end": 536870912 }] }, { "name": "OneofOptions", "field": [{ "name": "features", "number": 1, "type": 11, "label": 1, "typeName": ".google.protobuf.FeatureSet" }, { "name": "uninterpreted_option", "number": 999, "type": 11, "label": 3, "typeName": ".google.protobuf.UninterpretedOption" }], "extensionRange": [{ "start": 1e3, "end": 536870912 }] }, { "name": "EnumOptions", "field": [{ "name": "allow_alias", "number": 2, "type": 8, "label": 1 }, { "name": "deprecated", "number": 3, "type": 8, "label": 1, "defaultValue": "false" }, { "name": "deprecated_legacy_json_field_conflicts", "number": 6, "type": 8, "label": 1, "options": { "deprecated": true } }, { "name": "features", "number": 7, "type": 11, "label": 1, "typeName": ".google.protobuf.FeatureSet" }, { "name": "uninterpreted_option", "number": 999, "type": 11, "label": 3, "typeName": ".google.protobuf.UninterpretedOption" }], "extensionRange": [{ "start": 1e3, "end": 536870912 }] }, { "name": "EnumValueOptions", "field": [{ "name": "deprecated", "number": 1, "type": 8, "label": 1, "defaultValue": "false" }, { "name": "features", "number": 2, "type": 11, "label": 1, "typeName": ".google.protobuf.FeatureSet" }, { "name": "debug_redact", "number": 3, "type": 8, "label": 1, "defaultValue": "false" }, { "name": "feature_support", "number": 4, "type": 11, "label": 1, "typeName": ".google.protobuf.FieldOptions.FeatureSupport" }, { "name": "uninterpreted_option", "number": 999, "type": 11, "label": 3, "typeName": ".google.protobuf.UninterpretedOption" }], "extensionRange": [{ "start": 1e3, "end": 536870912 }] }, { "name": "ServiceOptions", "field": [{ "name": "features", "number": 34, "type": 11, "label": 1, "typeName": ".google.protobuf.FeatureSet" }, { "name": "deprecated", "number": 33, "type": 8, "label": 1, "defaultValue": "false" }, { "name": "uninterpreted_option", "number": 999, "type": 11, "label": 3, "typeName": ".google.protobuf.UninterpretedOption" }], "extensionRange": [{ "start": 1e3, "end": 536870912 }] }, { "name": "MethodOptions", "field": [{ "name": "deprecated", "number": 33, "type": 8, "label": 1, "defaultValue": "false" }, { "name": "idempotency_level", "number": 34, "type": 14, "label": 1, "typeName": ".google.protobuf.MethodOptions.IdempotencyLevel", "defaultValue": "IDEMPOTENCY_UNKNOWN" }, { "name": "features", "number": 35, "type": 11, "label": 1, "typeName": ".google.protobuf.FeatureSet" }, { "name": "uninterpreted_option", "number": 999, "type": 11, "label": 3, "typeName": ".google.protobuf.UninterpretedOption" }], "enumType": [{ "name": "IdempotencyLevel", "value": [{ "name": "IDEMPOTENCY_UNKNOWN", "number": 0 }, { "name": "NO_SIDE_EFFECTS", "number": 1 }, { "name": "IDEMPOTENT", "number": 2 }] }], "extensionRange": [{ "start": 1e3, "end": 536870912 }] }, { "name": "UninterpretedOption", "field": [{ "name": "name", "number": 2, "type": 11, "label": 3, "typeName": ".google.protobuf.UninterpretedOption.NamePart" }, { "name": "identifier_value", "number": 3, "type": 9, "label": 1 }, { "name": "positive_int_value", "number": 4, "type": 4, "label": 1 }, { "name": "negative_int_value", "number": 5, "type": 3, "label": 1 }, { "name": "double_value", "number": 6, "type": 1, "label": 1 }, { "name": "string_value", "number": 7, "type": 12, "label": 1 }, { "name": "aggregate_value", "number": 8, "type": 9, "label": 1 }], "nestedType": [{ "name": "NamePart", "field": [{ "name": "name_part", "number": 1, "type": 9, "label": 2 }, { "name": "is_extension", "number": 2, "type": 8, "label": 2 }] }] }, { "name": "FeatureSet", "field": [{ "name": "field_presence", "number": 1, "type": 14, "label": 1, "typeName": ".google.protobuf.FeatureSet.FieldPresence", "options": { "retention": 1, "targets": [4, 1], "editionDefaults": [{ "value": "EXPLICIT", "edition": 900 }, { "value": "IMPLICIT", "edition": 999 }, { "value": "EXPLICIT", "edition": 1e3 }] } }, { "name": "enum_type", "number": 2, "type": 14, "label": 1, "typeName": ".google.protobuf.FeatureSet.EnumType", "options": { "retention": 1, "targets": [6, 1], "editionDefaults": [{ "value": "CLOSED", "edition": 900 }, { "value": "OPEN", "edition": 999 }] } }, { "name": "repeated_field_encoding", "number": 3, "type": 14, "label": 1, "typeName": ".google.protobuf.FeatureSet.RepeatedFieldEncoding", "options": { "retention": 1, "targets": [4, 1], "editionDefaults": [{ "value": "EXPANDED", "edition": 900 }, { "value": "PACKED", "edition": 999 }] } }, { "name": "utf8_validation", "number": 4, "type": 14, "label": 1, "typeName": ".google.protobuf.FeatureSet.Utf8Validation", "options": { "retention": 1, "targets": [4, 1], "editionDefaults": [{ "value": "NONE", "edition": 900 }, { "value": "VERIFY", "edition": 999 }] } }, { "name": "message_encoding", "number": 5, "type": 14, "label": 1, "typeName": ".google.protobuf.FeatureSet.MessageEncoding", "options": { "retention": 1, "targets": [4, 1], "editionDefaults": [{ "value": "LENGTH_PREFIXED", "edition": 900 }] } }, { "name": "json_format", "number": 6, "type": 14, "label": 1, "typeName": ".google.protobuf.FeatureSet.JsonFormat", "options": { "retention": 1, "targets": [3, 6, 1], "editionDefaults": [{ "value": "LEGACY_BEST_EFFORT", "edition": 900 }, { "value": "ALLOW", "edition": 999 }] } }, { "name": "enforce_naming_style", "number": 7, "type": 14, "label": 1, "typeName": ".google.protobuf.FeatureSet.EnforceNamingStyle", "options": { "retention": 2, "targets": [1, 2, 3, 4, 5, 6, 7, 8, 9], "editionDefaults": [{ "value": "STYLE_LEGACY", "edition": 900 }, { "value": "STYLE2024", "edition": 1001 }] } }, { "name": "default_symbol_visibility", "number": 8, "type": 14, "label": 1, "typeName": ".google.protobuf.FeatureSet.VisibilityFeature.DefaultSymbolVisibility", "options": { "retention": 2, "targets": [1], "editionDefaults": [{ "value": "EXPORT_ALL", "edition": 900 }, { "value": "EXPORT_TOP_LEVEL", "edition": 1001 }] } }], "nestedType": [{ "name": "VisibilityFeature", "enumType": [{ "name": "DefaultSymbolVisibility", "value": [{ "name": "DEFAULT_SYMBOL_VISIBILITY_UNKNOWN", "number": 0 }, { "name": "EXPORT_ALL", "number": 1 }, { "name": "EXPORT_TOP_LEVEL", "number": 2 }, { "name": "LOCAL_ALL", "number": 3 }, { "name": "STRICT", "number": 4 }] }] }], "enumType": [{ "name": "FieldPresence", "value": [{ "name": "FIELD_PRESENCE_UNKNOWN", "number": 0 }, { "name": "EXPLICIT", "number": 1 }, { "name": "IMPLICIT", "number": 2 }, { "name": "LEGACY_REQUIRED", "number": 3 }] }, { "name": "EnumType", "value": [{ "name": "ENUM_TYPE_UNKNOWN", "number": 0 }, { "name": "OPEN", "number": 1 }, { "name": "CLOSED", "number": 2 }] }, { "name": "RepeatedFieldEncoding", "value": [{ "name": "REPEATED_FIELD_ENCODING_UNKNOWN", "number": 0 }, { "name": "PACKED", "number": 1 }, { "name": "EXPANDED", "number": 2 }] }, { "name": "Utf8Validation", "value": [{ "name": "UTF8_VALIDATION_UNKNOWN", "number": 0 }, { "name": "VERIFY", "number": 2 }, { "name": "NONE", "number": 3 }] }, { "name": "MessageEncoding", "value": [{ "name": "MESSAGE_ENCODING_UNKNOWN", "number": 0 }, { "name": "LENGTH_PREFIXED", "number": 1 }, { "name": "DELIMITED", "number": 2 }] }, { "name": "JsonFormat", "value": [{ "name": "JSON_FORMAT_UNKNOWN", "number": 0 }, { "name": "ALLOW", "number": 1 }, { "name": "LEGACY_BEST_EFFORT", "number": 2 }] }, { "name": "EnforceNamingStyle", "value": [{ "name": "ENFORCE_NAMING_STYLE_UNKNOWN", "number": 0 }, { "name": "STYLE2024", "number": 1 }, { "name": "STYLE_LEGACY", "number": 2 }] }], "extensionRange": [{ "start": 1e3, "end": 9995 }, { "start": 9995, "end": 1e4 }, { "start": 1e4, "end": 10001 }] }, { "name": "FeatureSetDefaults", "field": [{ "name": "defaults", "number": 1, "type": 11, "label": 3, "typeName": ".google.protobuf.FeatureSetDefaults.FeatureSetEditionDefault" }, { "name": "minimum_edition", "number": 4, "type": 14, "label": 1, "typeName": ".google.protobuf.Edition" }, { "name": "maximum_edition", "number": 5, "type": 14, "label": 1, "typeName": ".google.protobuf.Edition" }], "nestedType": [{ "name": "FeatureSetEditionDefault", "field": [{ "name": "edition", "number": 3, "type": 14, "label": 1, "typeName": ".google.protobuf.Edition" }, { "name": "overridable_features", "number": 4, "type": 11, "label": 1, "typeName": ".google.protobuf.FeatureSet" }, { "name": "fixed_features", "number": 5, "type": 11, "label": 1, "typeName": ".google.protobuf.FeatureSet" }] }] }, { "name": "SourceCodeInfo", "field": [{ "name": "location", "number": 1, "type": 11, "label": 3, "typeName": ".google.protobuf.SourceCodeInfo.Location" }], "nestedType": [{ "name": "Location", "field": [{ "name": "path", "number": 1, "type": 5, "label": 3, "options": { "packed": true } }, { "name": "span", "number": 2, "type": 5, "label": 3, "options": { "packed": true } }, { "name": "leading_comments", "number": 3, "type": 9, "label": 1 }, { "name": "trailing_comments", "number": 4, "type": 9, "label": 1 }, { "name": "leading_detached_comments", "number": 6, "type": 9, "label": 3 }] }], "extensionRange": [{ "start": 536e6, "end": 536000001 }] }, { "name": "GeneratedCodeInfo", "field": [{ "name": "annotation", "number": 1, "type": 11, "label": 3, "typeName": ".google.protobuf.GeneratedCodeInfo.Annotation" }], "nestedType": [{ "name": "Annotation", "field": [{ "name": "path", "number": 1, "type": 5, "label": 3, "options": { "packed": true } }, { "name": "source_file", "number": 2, "type": 9, "label": 1 }, { "name": "begin", "number": 3, "type": 5, "label": 1 }, { "name": "end", "number": 4, "type": 5, "label": 1 }, { "name": "semantic", "number": 5, "type": 14, "label": 1, "typeName": ".google.protobuf.GeneratedCodeInfo.Annotation.Semantic" }], "enumType": [{ "name": "Semantic", "value": [{ "name": "NONE", "number": 0 }, { "name": "SET", "number": 1 }, { "name": "ALIAS", "number": 2 }] }] }] }], "enumType": [{ "name": "Edition", "value": [{ "name": "EDITION_UNKNOWN", "number": 0 }, { "name": "EDITION_LEGACY", "number": 900 }, { "name": "EDITION_PROTO2", "number": 998 }, { "name": "EDITION_PROTO3", "number": 999 }, { "name": "EDITION_2023", "number": 1e3 }, { "name": "EDITION_2024", "number": 1001 }, { "name": "EDITION_UNSTABLE", "number": 9999 }, { "name": "EDITION_1_TEST_ONLY", "number": 1 }, { "name": "EDITION_2_TEST_ONLY", "number": 2 }, { "name": "EDITION_99997_TEST_ONLY", "number": 99997 }, { "name": "EDITION_99998_TEST_ONLY", "number": 99998 }, { "name": "EDITION_99999_TEST_ONLY", "number": 99999 }, { "name": "EDITION_MAX", "number": 2147483647 }] }, { "name": "SymbolVisibility", "value": [{ "name": "VISIBILITY_UNSET", "number": 0 }, { "name": "VISIBILITY_LOCAL", "number": 1 }, { "name": "VISIBILITY_EXPORT", "number": 2 }] }] });
var FileDescriptorProtoSchema = /* @__PURE__ */ messageDesc(file_google_protobuf_descriptor, 1);
var ExtensionRangeOptions_VerificationState;
(function(ExtensionRangeOptions_VerificationState2) {
  ExtensionRangeOptions_VerificationState2[ExtensionRangeOptions_VerificationState2["DECLARATION"] = 0] = "DECLARATION";
  ExtensionRangeOptions_VerificationState2[ExtensionRangeOptions_VerificationState2["UNVERIFIED"] = 1] = "UNVERIFIED";
})(ExtensionRangeOptions_VerificationState || (ExtensionRangeOptions_VerificationState = {}));
var FieldDescriptorProto_Type;
(function(FieldDescriptorProto_Type2) {
  FieldDescriptorProto_Type2[FieldDescriptorProto_Type2["DOUBLE"] = 1] = "DOUBLE";
  FieldDescriptorProto_Type2[FieldDescriptorProto_Type2["FLOAT"] = 2] = "FLOAT";
  FieldDescriptorProto_Type2[FieldDescriptorProto_Type2["INT64"] = 3] = "INT64";
  FieldDescriptorProto_Type2[FieldDescriptorProto_Type2["UINT64"] = 4] = "UINT64";
  FieldDescriptorProto_Type2[FieldDescriptorProto_Type2["INT32"] = 5] = "INT32";
  FieldDescriptorProto_Type2[FieldDescriptorProto_Type2["FIXED64"] = 6] = "FIXED64";
  FieldDescriptorProto_Type2[FieldDescriptorProto_Type2["FIXED32"] = 7] = "FIXED32";
  FieldDescriptorProto_Type2[FieldDescriptorProto_Type2["BOOL"] = 8] = "BOOL";
  FieldDescriptorProto_Type2[FieldDescriptorProto_Type2["STRING"] = 9] = "STRING";
  FieldDescriptorProto_Type2[FieldDescriptorProto_Type2["GROUP"] = 10] = "GROUP";
  FieldDescriptorProto_Type2[FieldDescriptorProto_Type2["MESSAGE"] = 11] = "MESSAGE";
  FieldDescriptorProto_Type2[FieldDescriptorProto_Type2["BYTES"] = 12] = "BYTES";
  FieldDescriptorProto_Type2[FieldDescriptorProto_Type2["UINT32"] = 13] = "UINT32";
  FieldDescriptorProto_Type2[FieldDescriptorProto_Type2["ENUM"] = 14] = "ENUM";
  FieldDescriptorProto_Type2[FieldDescriptorProto_Type2["SFIXED32"] = 15] = "SFIXED32";
  FieldDescriptorProto_Type2[FieldDescriptorProto_Type2["SFIXED64"] = 16] = "SFIXED64";
  FieldDescriptorProto_Type2[FieldDescriptorProto_Type2["SINT32"] = 17] = "SINT32";
  FieldDescriptorProto_Type2[FieldDescriptorProto_Type2["SINT64"] = 18] = "SINT64";
})(FieldDescriptorProto_Type || (FieldDescriptorProto_Type = {}));
var FieldDescriptorProto_Label;
(function(FieldDescriptorProto_Label2) {
  FieldDescriptorProto_Label2[FieldDescriptorProto_Label2["OPTIONAL"] = 1] = "OPTIONAL";
  FieldDescriptorProto_Label2[FieldDescriptorProto_Label2["REPEATED"] = 3] = "REPEATED";
  FieldDescriptorProto_Label2[FieldDescriptorProto_Label2["REQUIRED"] = 2] = "REQUIRED";
})(FieldDescriptorProto_Label || (FieldDescriptorProto_Label = {}));
var FileOptions_OptimizeMode;
(function(FileOptions_OptimizeMode2) {
  FileOptions_OptimizeMode2[FileOptions_OptimizeMode2["SPEED"] = 1] = "SPEED";
  FileOptions_OptimizeMode2[FileOptions_OptimizeMode2["CODE_SIZE"] = 2] = "CODE_SIZE";
  FileOptions_OptimizeMode2[FileOptions_OptimizeMode2["LITE_RUNTIME"] = 3] = "LITE_RUNTIME";
})(FileOptions_OptimizeMode || (FileOptions_OptimizeMode = {}));
var FieldOptions_CType;
(function(FieldOptions_CType2) {
  FieldOptions_CType2[FieldOptions_CType2["STRING"] = 0] = "STRING";
  FieldOptions_CType2[FieldOptions_CType2["CORD"] = 1] = "CORD";
  FieldOptions_CType2[FieldOptions_CType2["STRING_PIECE"] = 2] = "STRING_PIECE";
})(FieldOptions_CType || (FieldOptions_CType = {}));
var FieldOptions_JSType;
(function(FieldOptions_JSType2) {
  FieldOptions_JSType2[FieldOptions_JSType2["JS_NORMAL"] = 0] = "JS_NORMAL";
  FieldOptions_JSType2[FieldOptions_JSType2["JS_STRING"] = 1] = "JS_STRING";
  FieldOptions_JSType2[FieldOptions_JSType2["JS_NUMBER"] = 2] = "JS_NUMBER";
})(FieldOptions_JSType || (FieldOptions_JSType = {}));
var FieldOptions_OptionRetention;
(function(FieldOptions_OptionRetention2) {
  FieldOptions_OptionRetention2[FieldOptions_OptionRetention2["RETENTION_UNKNOWN"] = 0] = "RETENTION_UNKNOWN";
  FieldOptions_OptionRetention2[FieldOptions_OptionRetention2["RETENTION_RUNTIME"] = 1] = "RETENTION_RUNTIME";
  FieldOptions_OptionRetention2[FieldOptions_OptionRetention2["RETENTION_SOURCE"] = 2] = "RETENTION_SOURCE";
})(FieldOptions_OptionRetention || (FieldOptions_OptionRetention = {}));
var FieldOptions_OptionTargetType;
(function(FieldOptions_OptionTargetType2) {
  FieldOptions_OptionTargetType2[FieldOptions_OptionTargetType2["TARGET_TYPE_UNKNOWN"] = 0] = "TARGET_TYPE_UNKNOWN";
  FieldOptions_OptionTargetType2[FieldOptions_OptionTargetType2["TARGET_TYPE_FILE"] = 1] = "TARGET_TYPE_FILE";
  FieldOptions_OptionTargetType2[FieldOptions_OptionTargetType2["TARGET_TYPE_EXTENSION_RANGE"] = 2] = "TARGET_TYPE_EXTENSION_RANGE";
  FieldOptions_OptionTargetType2[FieldOptions_OptionTargetType2["TARGET_TYPE_MESSAGE"] = 3] = "TARGET_TYPE_MESSAGE";
  FieldOptions_OptionTargetType2[FieldOptions_OptionTargetType2["TARGET_TYPE_FIELD"] = 4] = "TARGET_TYPE_FIELD";
  FieldOptions_OptionTargetType2[FieldOptions_OptionTargetType2["TARGET_TYPE_ONEOF"] = 5] = "TARGET_TYPE_ONEOF";
  FieldOptions_OptionTargetType2[FieldOptions_OptionTargetType2["TARGET_TYPE_ENUM"] = 6] = "TARGET_TYPE_ENUM";
  FieldOptions_OptionTargetType2[FieldOptions_OptionTargetType2["TARGET_TYPE_ENUM_ENTRY"] = 7] = "TARGET_TYPE_ENUM_ENTRY";
  FieldOptions_OptionTargetType2[FieldOptions_OptionTargetType2["TARGET_TYPE_SERVICE"] = 8] = "TARGET_TYPE_SERVICE";
  FieldOptions_OptionTargetType2[FieldOptions_OptionTargetType2["TARGET_TYPE_METHOD"] = 9] = "TARGET_TYPE_METHOD";
})(FieldOptions_OptionTargetType || (FieldOptions_OptionTargetType = {}));
var MethodOptions_IdempotencyLevel;
(function(MethodOptions_IdempotencyLevel2) {
  MethodOptions_IdempotencyLevel2[MethodOptions_IdempotencyLevel2["IDEMPOTENCY_UNKNOWN"] = 0] = "IDEMPOTENCY_UNKNOWN";
  MethodOptions_IdempotencyLevel2[MethodOptions_IdempotencyLevel2["NO_SIDE_EFFECTS"] = 1] = "NO_SIDE_EFFECTS";
  MethodOptions_IdempotencyLevel2[MethodOptions_IdempotencyLevel2["IDEMPOTENT"] = 2] = "IDEMPOTENT";
})(MethodOptions_IdempotencyLevel || (MethodOptions_IdempotencyLevel = {}));
var FeatureSet_VisibilityFeature_DefaultSymbolVisibility;
(function(FeatureSet_VisibilityFeature_DefaultSymbolVisibility2) {
  FeatureSet_VisibilityFeature_DefaultSymbolVisibility2[FeatureSet_VisibilityFeature_DefaultSymbolVisibility2["DEFAULT_SYMBOL_VISIBILITY_UNKNOWN"] = 0] = "DEFAULT_SYMBOL_VISIBILITY_UNKNOWN";
  FeatureSet_VisibilityFeature_DefaultSymbolVisibility2[FeatureSet_VisibilityFeature_DefaultSymbolVisibility2["EXPORT_ALL"] = 1] = "EXPORT_ALL";
  FeatureSet_VisibilityFeature_DefaultSymbolVisibility2[FeatureSet_VisibilityFeature_DefaultSymbolVisibility2["EXPORT_TOP_LEVEL"] = 2] = "EXPORT_TOP_LEVEL";
  FeatureSet_VisibilityFeature_DefaultSymbolVisibility2[FeatureSet_VisibilityFeature_DefaultSymbolVisibility2["LOCAL_ALL"] = 3] = "LOCAL_ALL";
  FeatureSet_VisibilityFeature_DefaultSymbolVisibility2[FeatureSet_VisibilityFeature_DefaultSymbolVisibility2["STRICT"] = 4] = "STRICT";
})(FeatureSet_VisibilityFeature_DefaultSymbolVisibility || (FeatureSet_VisibilityFeature_DefaultSymbolVisibility = {}));
var FeatureSet_FieldPresence;
(function(FeatureSet_FieldPresence2) {
  FeatureSet_FieldPresence2[FeatureSet_FieldPresence2["FIELD_PRESENCE_UNKNOWN"] = 0] = "FIELD_PRESENCE_UNKNOWN";
  FeatureSet_FieldPresence2[FeatureSet_FieldPresence2["EXPLICIT"] = 1] = "EXPLICIT";
  FeatureSet_FieldPresence2[FeatureSet_FieldPresence2["IMPLICIT"] = 2] = "IMPLICIT";
  FeatureSet_FieldPresence2[FeatureSet_FieldPresence2["LEGACY_REQUIRED"] = 3] = "LEGACY_REQUIRED";
})(FeatureSet_FieldPresence || (FeatureSet_FieldPresence = {}));
var FeatureSet_EnumType;
(function(FeatureSet_EnumType2) {
  FeatureSet_EnumType2[FeatureSet_EnumType2["ENUM_TYPE_UNKNOWN"] = 0] = "ENUM_TYPE_UNKNOWN";
  FeatureSet_EnumType2[FeatureSet_EnumType2["OPEN"] = 1] = "OPEN";
  FeatureSet_EnumType2[FeatureSet_EnumType2["CLOSED"] = 2] = "CLOSED";
})(FeatureSet_EnumType || (FeatureSet_EnumType = {}));
var FeatureSet_RepeatedFieldEncoding;
(function(FeatureSet_RepeatedFieldEncoding2) {
  FeatureSet_RepeatedFieldEncoding2[FeatureSet_RepeatedFieldEncoding2["REPEATED_FIELD_ENCODING_UNKNOWN"] = 0] = "REPEATED_FIELD_ENCODING_UNKNOWN";
  FeatureSet_RepeatedFieldEncoding2[FeatureSet_RepeatedFieldEncoding2["PACKED"] = 1] = "PACKED";
  FeatureSet_RepeatedFieldEncoding2[FeatureSet_RepeatedFieldEncoding2["EXPANDED"] = 2] = "EXPANDED";
})(FeatureSet_RepeatedFieldEncoding || (FeatureSet_RepeatedFieldEncoding = {}));
var FeatureSet_Utf8Validation;
(function(FeatureSet_Utf8Validation2) {
  FeatureSet_Utf8Validation2[FeatureSet_Utf8Validation2["UTF8_VALIDATION_UNKNOWN"] = 0] = "UTF8_VALIDATION_UNKNOWN";
  FeatureSet_Utf8Validation2[FeatureSet_Utf8Validation2["VERIFY"] = 2] = "VERIFY";
  FeatureSet_Utf8Validation2[FeatureSet_Utf8Validation2["NONE"] = 3] = "NONE";
})(FeatureSet_Utf8Validation || (FeatureSet_Utf8Validation = {}));
var FeatureSet_MessageEncoding;
(function(FeatureSet_MessageEncoding2) {
  FeatureSet_MessageEncoding2[FeatureSet_MessageEncoding2["MESSAGE_ENCODING_UNKNOWN"] = 0] = "MESSAGE_ENCODING_UNKNOWN";
  FeatureSet_MessageEncoding2[FeatureSet_MessageEncoding2["LENGTH_PREFIXED"] = 1] = "LENGTH_PREFIXED";
  FeatureSet_MessageEncoding2[FeatureSet_MessageEncoding2["DELIMITED"] = 2] = "DELIMITED";
})(FeatureSet_MessageEncoding || (FeatureSet_MessageEncoding = {}));
var FeatureSet_JsonFormat;
(function(FeatureSet_JsonFormat2) {
  FeatureSet_JsonFormat2[FeatureSet_JsonFormat2["JSON_FORMAT_UNKNOWN"] = 0] = "JSON_FORMAT_UNKNOWN";
  FeatureSet_JsonFormat2[FeatureSet_JsonFormat2["ALLOW"] = 1] = "ALLOW";
  FeatureSet_JsonFormat2[FeatureSet_JsonFormat2["LEGACY_BEST_EFFORT"] = 2] = "LEGACY_BEST_EFFORT";
})(FeatureSet_JsonFormat || (FeatureSet_JsonFormat = {}));
var FeatureSet_EnforceNamingStyle;
(function(FeatureSet_EnforceNamingStyle2) {
  FeatureSet_EnforceNamingStyle2[FeatureSet_EnforceNamingStyle2["ENFORCE_NAMING_STYLE_UNKNOWN"] = 0] = "ENFORCE_NAMING_STYLE_UNKNOWN";
  FeatureSet_EnforceNamingStyle2[FeatureSet_EnforceNamingStyle2["STYLE2024"] = 1] = "STYLE2024";
  FeatureSet_EnforceNamingStyle2[FeatureSet_EnforceNamingStyle2["STYLE_LEGACY"] = 2] = "STYLE_LEGACY";
})(FeatureSet_EnforceNamingStyle || (FeatureSet_EnforceNamingStyle = {}));
var GeneratedCodeInfo_Annotation_Semantic;
(function(GeneratedCodeInfo_Annotation_Semantic2) {
  GeneratedCodeInfo_Annotation_Semantic2[GeneratedCodeInfo_Annotation_Semantic2["NONE"] = 0] = "NONE";
  GeneratedCodeInfo_Annotation_Semantic2[GeneratedCodeInfo_Annotation_Semantic2["SET"] = 1] = "SET";
  GeneratedCodeInfo_Annotation_Semantic2[GeneratedCodeInfo_Annotation_Semantic2["ALIAS"] = 2] = "ALIAS";
})(GeneratedCodeInfo_Annotation_Semantic || (GeneratedCodeInfo_Annotation_Semantic = {}));
var Edition;
(function(Edition2) {
  Edition2[Edition2["EDITION_UNKNOWN"] = 0] = "EDITION_UNKNOWN";
  Edition2[Edition2["EDITION_LEGACY"] = 900] = "EDITION_LEGACY";
  Edition2[Edition2["EDITION_PROTO2"] = 998] = "EDITION_PROTO2";
  Edition2[Edition2["EDITION_PROTO3"] = 999] = "EDITION_PROTO3";
  Edition2[Edition2["EDITION_2023"] = 1e3] = "EDITION_2023";
  Edition2[Edition2["EDITION_2024"] = 1001] = "EDITION_2024";
  Edition2[Edition2["EDITION_UNSTABLE"] = 9999] = "EDITION_UNSTABLE";
  Edition2[Edition2["EDITION_1_TEST_ONLY"] = 1] = "EDITION_1_TEST_ONLY";
  Edition2[Edition2["EDITION_2_TEST_ONLY"] = 2] = "EDITION_2_TEST_ONLY";
  Edition2[Edition2["EDITION_99997_TEST_ONLY"] = 99997] = "EDITION_99997_TEST_ONLY";
  Edition2[Edition2["EDITION_99998_TEST_ONLY"] = 99998] = "EDITION_99998_TEST_ONLY";
  Edition2[Edition2["EDITION_99999_TEST_ONLY"] = 99999] = "EDITION_99999_TEST_ONLY";
  Edition2[Edition2["EDITION_MAX"] = 2147483647] = "EDITION_MAX";
})(Edition || (Edition = {}));
var SymbolVisibility;
(function(SymbolVisibility2) {
  SymbolVisibility2[SymbolVisibility2["VISIBILITY_UNSET"] = 0] = "VISIBILITY_UNSET";
  SymbolVisibility2[SymbolVisibility2["VISIBILITY_LOCAL"] = 1] = "VISIBILITY_LOCAL";
  SymbolVisibility2[SymbolVisibility2["VISIBILITY_EXPORT"] = 2] = "VISIBILITY_EXPORT";
})(SymbolVisibility || (SymbolVisibility = {}));

// node_modules/@bufbuild/protobuf/dist/esm/from-binary.js
function makeReadContext(options) {
  return Object.assign(Object.assign({ readUnknownFields: true, recursionLimit: 100 }, options), { depth: 0 });
}
function fromBinary(schema, bytes, options) {
  const msg = reflect(schema, void 0, false);
  readMessage(msg, new BinaryReader(bytes), makeReadContext(options), false, bytes.byteLength);
  return msg.message;
}
function readMessage(message, reader, ctx, delimited, lengthOrDelimitedFieldNo) {
  var _a;
  if (++ctx.depth > ctx.recursionLimit) {
    throw new Error(`cannot decode ${message.desc} from binary: maximum recursion depth of ${ctx.recursionLimit} reached`);
  }
  const end = delimited ? reader.len : reader.pos + lengthOrDelimitedFieldNo;
  let fieldNo;
  let wireType;
  const unknownFields = (_a = message.getUnknown()) !== null && _a !== void 0 ? _a : [];
  while (reader.pos < end) {
    [fieldNo, wireType] = reader.tag();
    if (delimited && wireType == WireType.EndGroup) {
      break;
    }
    const field = message.findNumber(fieldNo);
    if (!field) {
      const recursionLimit = ctx.recursionLimit - ctx.depth;
      const data = reader.skip(wireType, fieldNo, recursionLimit);
      if (ctx.readUnknownFields) {
        unknownFields.push({ no: fieldNo, wireType, data });
      }
      continue;
    }
    readField(message, reader, field, wireType, ctx);
  }
  if (delimited) {
    if (wireType != WireType.EndGroup || fieldNo !== lengthOrDelimitedFieldNo) {
      throw new Error("invalid end group tag");
    }
  }
  if (unknownFields.length > 0) {
    message.setUnknown(unknownFields);
  }
  ctx.depth--;
}
function readField(message, reader, field, wireType, ctx) {
  var _a;
  switch (field.fieldKind) {
    case "scalar":
      message.set(field, readScalar(reader, field.scalar, field.utf8Validation));
      break;
    case "enum":
      const val = readScalar(reader, ScalarType.INT32);
      if (field.enum.open) {
        message.set(field, val);
      } else {
        const ok = field.enum.values.some((v) => v.number === val);
        if (ok) {
          message.set(field, val);
        } else if (ctx.readUnknownFields) {
          const bytes = [];
          varint32write(val, bytes);
          const unknownFields = (_a = message.getUnknown()) !== null && _a !== void 0 ? _a : [];
          unknownFields.push({
            no: field.number,
            wireType,
            data: new Uint8Array(bytes)
          });
          message.setUnknown(unknownFields);
        }
      }
      break;
    case "message":
      message.set(field, readMessageField(reader, ctx, field, message.get(field)));
      break;
    case "list":
      readListField(reader, wireType, message.get(field), ctx);
      break;
    case "map":
      readMapEntry(reader, message.get(field), ctx);
      break;
  }
}
function readMapEntry(reader, map, ctx) {
  const field = map.field();
  let key;
  let val;
  const len = reader.uint32();
  const end = reader.pos + len;
  while (reader.pos < end) {
    const [fieldNo] = reader.tag();
    switch (fieldNo) {
      case 1:
        key = readScalar(reader, field.mapKey, field.utf8Validation);
        break;
      case 2:
        switch (field.mapKind) {
          case "scalar":
            val = readScalar(reader, field.scalar, field.utf8Validation);
            break;
          case "enum":
            val = reader.int32();
            break;
          case "message":
            val = readMessageField(reader, ctx, field);
            break;
        }
        break;
    }
  }
  if (key === void 0) {
    key = scalarZeroValue(field.mapKey, false);
  }
  if (val === void 0) {
    switch (field.mapKind) {
      case "scalar":
        val = scalarZeroValue(field.scalar, false);
        break;
      case "enum":
        val = field.enum.values[0].number;
        break;
      case "message":
        val = reflect(field.message, void 0, false);
        break;
    }
  }
  map.set(key, val);
}
function readListField(reader, wireType, list, ctx) {
  var _a;
  const field = list.field();
  if (field.listKind === "message") {
    list.add(readMessageField(reader, ctx, field));
    return;
  }
  const scalarType = (_a = field.scalar) !== null && _a !== void 0 ? _a : ScalarType.INT32;
  const packed = wireType == WireType.LengthDelimited && scalarType != ScalarType.STRING && scalarType != ScalarType.BYTES;
  if (!packed) {
    list.add(readScalar(reader, scalarType, field.utf8Validation));
    return;
  }
  const e = reader.uint32() + reader.pos;
  while (reader.pos < e) {
    list.add(readScalar(reader, scalarType, field.utf8Validation));
  }
}
function readMessageField(reader, ctx, field, mergeMessage) {
  const delimited = field.delimitedEncoding;
  const message = mergeMessage !== null && mergeMessage !== void 0 ? mergeMessage : reflect(field.message, void 0, false);
  readMessage(message, reader, ctx, delimited, delimited ? field.number : reader.uint32());
  return message;
}
function readScalar(reader, type, validateUtf8 = false) {
  switch (type) {
    case ScalarType.STRING:
      return reader.string(validateUtf8);
    case ScalarType.BOOL:
      return reader.bool();
    case ScalarType.DOUBLE:
      return reader.double();
    case ScalarType.FLOAT:
      return reader.float();
    case ScalarType.INT32:
      return reader.int32();
    case ScalarType.INT64:
      return reader.int64();
    case ScalarType.UINT64:
      return reader.uint64();
    case ScalarType.FIXED64:
      return reader.fixed64();
    case ScalarType.BYTES:
      return reader.bytes();
    case ScalarType.FIXED32:
      return reader.fixed32();
    case ScalarType.SFIXED32:
      return reader.sfixed32();
    case ScalarType.SFIXED64:
      return reader.sfixed64();
    case ScalarType.SINT64:
      return reader.sint64();
    case ScalarType.UINT32:
      return reader.uint32();
    case ScalarType.SINT32:
      return reader.sint32();
  }
}

// node_modules/@bufbuild/protobuf/dist/esm/codegenv2/file.js
function fileDesc(b64, imports) {
  var _a;
  const root2 = fromBinary(FileDescriptorProtoSchema, base64Decode(b64));
  root2.messageType.forEach(restoreJsonNames);
  root2.dependency = (_a = imports === null || imports === void 0 ? void 0 : imports.map((f) => f.proto.name)) !== null && _a !== void 0 ? _a : [];
  const reg = createFileRegistry(root2, (protoFileName) => imports === null || imports === void 0 ? void 0 : imports.find((f) => f.proto.name === protoFileName));
  return reg.getFile(root2.name);
}

// node_modules/@bufbuild/protobuf/dist/esm/wkt/gen/google/protobuf/any_pb.js
var file_google_protobuf_any = /* @__PURE__ */ fileDesc("Chlnb29nbGUvcHJvdG9idWYvYW55LnByb3RvEg9nb29nbGUucHJvdG9idWYiJgoDQW55EhAKCHR5cGVfdXJsGAEgASgJEg0KBXZhbHVlGAIgASgMQnYKE2NvbS5nb29nbGUucHJvdG9idWZCCEFueVByb3RvUAFaLGdvb2dsZS5nb2xhbmcub3JnL3Byb3RvYnVmL3R5cGVzL2tub3duL2FueXBiogIDR1BCqgIeR29vZ2xlLlByb3RvYnVmLldlbGxLbm93blR5cGVzYgZwcm90bzM");
var AnySchema = /* @__PURE__ */ messageDesc(file_google_protobuf_any, 0);

// node_modules/@bufbuild/protobuf/dist/esm/to-binary.js
var LEGACY_REQUIRED2 = 3;
var writeDefaults = {
  writeUnknownFields: true
};
function makeWriteOptions(options) {
  return options ? Object.assign(Object.assign({}, writeDefaults), options) : writeDefaults;
}
function toBinary(schema, message, options) {
  return writeFields(new BinaryWriter(), makeWriteOptions(options), reflect(schema, message)).finish();
}
function writeFields(writer, opts, msg) {
  var _a;
  for (const f of msg.sortedFields) {
    if (!msg.isSet(f)) {
      if (f.presence == LEGACY_REQUIRED2) {
        throw new Error(`cannot encode ${f} to binary: required field not set`);
      }
      continue;
    }
    writeField(writer, opts, msg, f);
  }
  if (opts.writeUnknownFields) {
    for (const { no, wireType, data } of (_a = msg.getUnknown()) !== null && _a !== void 0 ? _a : []) {
      writer.tag(no, wireType).raw(data);
    }
  }
  return writer;
}
function writeField(writer, opts, msg, field) {
  var _a;
  switch (field.fieldKind) {
    case "scalar":
    case "enum":
      writeScalar(writer, msg.desc.typeName, field.name, (_a = field.scalar) !== null && _a !== void 0 ? _a : ScalarType.INT32, field.number, msg.get(field));
      break;
    case "list":
      writeListField(writer, opts, field, msg.get(field));
      break;
    case "message":
      writeMessageField(writer, opts, field, msg.get(field));
      break;
    case "map":
      for (const [key, val] of msg.get(field)) {
        writeMapEntry(writer, opts, field, key, val);
      }
      break;
  }
}
function writeScalar(writer, msgName, fieldName, scalarType, fieldNo, value) {
  writeScalarValue(writer.tag(fieldNo, writeTypeOfScalar(scalarType)), msgName, fieldName, scalarType, value);
}
function writeMessageField(writer, opts, field, message) {
  if (field.delimitedEncoding) {
    writeFields(writer.tag(field.number, WireType.StartGroup), opts, message).tag(field.number, WireType.EndGroup);
  } else {
    writeFields(writer.tag(field.number, WireType.LengthDelimited).fork(), opts, message).join();
  }
}
function writeListField(writer, opts, field, list) {
  var _a;
  if (field.listKind == "message") {
    for (const item of list) {
      writeMessageField(writer, opts, field, item);
    }
    return;
  }
  const scalarType = (_a = field.scalar) !== null && _a !== void 0 ? _a : ScalarType.INT32;
  if (field.packed) {
    if (!list.size) {
      return;
    }
    writer.tag(field.number, WireType.LengthDelimited).fork();
    for (const item of list) {
      writeScalarValue(writer, field.parent.typeName, field.name, scalarType, item);
    }
    writer.join();
    return;
  }
  for (const item of list) {
    writeScalar(writer, field.parent.typeName, field.name, scalarType, field.number, item);
  }
}
function writeMapEntry(writer, opts, field, key, value) {
  var _a;
  writer.tag(field.number, WireType.LengthDelimited).fork();
  writeScalar(writer, field.parent.typeName, field.name, field.mapKey, 1, key);
  switch (field.mapKind) {
    case "scalar":
    case "enum":
      writeScalar(writer, field.parent.typeName, field.name, (_a = field.scalar) !== null && _a !== void 0 ? _a : ScalarType.INT32, 2, value);
      break;
    case "message":
      writeFields(writer.tag(2, WireType.LengthDelimited).fork(), opts, value).join();
      break;
  }
  writer.join();
}
function writeScalarValue(writer, msgName, fieldName, type, value) {
  try {
    switch (type) {
      case ScalarType.STRING:
        writer.string(value);
        break;
      case ScalarType.BOOL:
        writer.bool(value);
        break;
      case ScalarType.DOUBLE:
        writer.double(value);
        break;
      case ScalarType.FLOAT:
        writer.float(value);
        break;
      case ScalarType.INT32:
        writer.int32(value);
        break;
      case ScalarType.INT64:
        writer.int64(value);
        break;
      case ScalarType.UINT64:
        writer.uint64(value);
        break;
      case ScalarType.FIXED64:
        writer.fixed64(value);
        break;
      case ScalarType.BYTES:
        writer.bytes(value);
        break;
      case ScalarType.FIXED32:
        writer.fixed32(value);
        break;
      case ScalarType.SFIXED32:
        writer.sfixed32(value);
        break;
      case ScalarType.SFIXED64:
        writer.sfixed64(value);
        break;
      case ScalarType.SINT64:
        writer.sint64(value);
        break;
      case ScalarType.UINT32:
        writer.uint32(value);
        break;
      case ScalarType.SINT32:
        writer.sint32(value);
        break;
    }
  } catch (e) {
    if (e instanceof Error) {
      throw new Error(`cannot encode field ${msgName}.${fieldName} to binary: ${e.message}`);
    }
    throw e;
  }
}
function writeTypeOfScalar(type) {
  switch (type) {
    case ScalarType.BYTES:
    case ScalarType.STRING:
      return WireType.LengthDelimited;
    case ScalarType.DOUBLE:
    case ScalarType.FIXED64:
    case ScalarType.SFIXED64:
      return WireType.Bit64;
    case ScalarType.FIXED32:
    case ScalarType.SFIXED32:
    case ScalarType.FLOAT:
      return WireType.Bit32;
    default:
      return WireType.Varint;
  }
}

// node_modules/@bufbuild/protobuf/dist/esm/wkt/any.js
function anyPack(schema, message, into) {
  let ret = false;
  if (!into) {
    into = create(AnySchema);
    ret = true;
  }
  into.value = toBinary(schema, message);
  into.typeUrl = typeNameToUrl(message.$typeName);
  return ret ? into : void 0;
}
function anyIs(any, descOrTypeName) {
  if (any.typeUrl === "") {
    return false;
  }
  const want = typeof descOrTypeName == "string" ? descOrTypeName : descOrTypeName.typeName;
  const got = typeUrlToName(any.typeUrl);
  return want === got;
}
function anyUnpack(any, registryOrMessageDesc) {
  if (any.typeUrl === "") {
    return void 0;
  }
  const desc = registryOrMessageDesc.kind == "message" ? registryOrMessageDesc : registryOrMessageDesc.getMessage(typeUrlToName(any.typeUrl));
  if (!desc || !anyIs(any, desc)) {
    return void 0;
  }
  return fromBinary(desc, any.value);
}
function typeNameToUrl(name2) {
  return `type.googleapis.com/${name2}`;
}
function typeUrlToName(url) {
  const slash = url.lastIndexOf("/");
  const name2 = slash >= 0 ? url.substring(slash + 1) : url;
  if (!name2.length) {
    throw new Error(`invalid type url: ${url}`);
  }
  return name2;
}

// node_modules/@bufbuild/protobuf/dist/esm/wkt/gen/google/protobuf/struct_pb.js
var file_google_protobuf_struct = /* @__PURE__ */ fileDesc("Chxnb29nbGUvcHJvdG9idWYvc3RydWN0LnByb3RvEg9nb29nbGUucHJvdG9idWYihAEKBlN0cnVjdBIzCgZmaWVsZHMYASADKAsyIy5nb29nbGUucHJvdG9idWYuU3RydWN0LkZpZWxkc0VudHJ5GkUKC0ZpZWxkc0VudHJ5EgsKA2tleRgBIAEoCRIlCgV2YWx1ZRgCIAEoCzIWLmdvb2dsZS5wcm90b2J1Zi5WYWx1ZToCOAEi6gEKBVZhbHVlEjAKCm51bGxfdmFsdWUYASABKA4yGi5nb29nbGUucHJvdG9idWYuTnVsbFZhbHVlSAASFgoMbnVtYmVyX3ZhbHVlGAIgASgBSAASFgoMc3RyaW5nX3ZhbHVlGAMgASgJSAASFAoKYm9vbF92YWx1ZRgEIAEoCEgAEi8KDHN0cnVjdF92YWx1ZRgFIAEoCzIXLmdvb2dsZS5wcm90b2J1Zi5TdHJ1Y3RIABIwCgpsaXN0X3ZhbHVlGAYgASgLMhouZ29vZ2xlLnByb3RvYnVmLkxpc3RWYWx1ZUgAQgYKBGtpbmQiMwoJTGlzdFZhbHVlEiYKBnZhbHVlcxgBIAMoCzIWLmdvb2dsZS5wcm90b2J1Zi5WYWx1ZSobCglOdWxsVmFsdWUSDgoKTlVMTF9WQUxVRRAAQn8KE2NvbS5nb29nbGUucHJvdG9idWZCC1N0cnVjdFByb3RvUAFaL2dvb2dsZS5nb2xhbmcub3JnL3Byb3RvYnVmL3R5cGVzL2tub3duL3N0cnVjdHBi+AEBogIDR1BCqgIeR29vZ2xlLlByb3RvYnVmLldlbGxLbm93blR5cGVzYgZwcm90bzM");
var StructSchema = /* @__PURE__ */ messageDesc(file_google_protobuf_struct, 0);
var ValueSchema = /* @__PURE__ */ messageDesc(file_google_protobuf_struct, 1);
var ListValueSchema = /* @__PURE__ */ messageDesc(file_google_protobuf_struct, 2);
var NullValue;
(function(NullValue2) {
  NullValue2[NullValue2["NULL_VALUE"] = 0] = "NULL_VALUE";
})(NullValue || (NullValue = {}));

// node_modules/@bufbuild/protobuf/dist/esm/extensions.js
function getExtension(message, extension, options) {
  assertExtendee(extension, message);
  const ufs = filterUnknownFields(message.$unknown, extension);
  const [container, field, get] = createExtensionContainer(extension);
  const ctx = makeReadContext(options);
  for (const uf of ufs) {
    readField(container, new BinaryReader(uf.data), field, uf.wireType, ctx);
  }
  return get();
}
function setExtension(message, extension, value) {
  var _a;
  assertExtendee(extension, message);
  const ufs = ((_a = message.$unknown) !== null && _a !== void 0 ? _a : []).filter((uf) => uf.no !== extension.number);
  const [container, field] = createExtensionContainer(extension, value);
  const writer = new BinaryWriter();
  writeField(writer, { writeUnknownFields: true }, container, field);
  const reader = new BinaryReader(writer.finish());
  while (reader.pos < reader.len) {
    const [no, wireType] = reader.tag();
    const data = reader.skip(wireType, no);
    ufs.push({ no, wireType, data });
  }
  message.$unknown = ufs;
}
function filterUnknownFields(unknownFields, extension) {
  if (unknownFields === void 0)
    return [];
  if (extension.fieldKind === "enum" || extension.fieldKind === "scalar") {
    for (let i = unknownFields.length - 1; i >= 0; --i) {
      if (unknownFields[i].no == extension.number) {
        return [unknownFields[i]];
      }
    }
    return [];
  }
  return unknownFields.filter((uf) => uf.no === extension.number);
}
function createExtensionContainer(extension, value) {
  const localName = extension.typeName;
  const field = Object.assign(Object.assign({}, extension), { kind: "field", parent: extension.extendee, localName });
  const desc = Object.assign(Object.assign({}, extension.extendee), { fields: [field], members: [field], oneofs: [] });
  const container = create(desc, value !== void 0 ? { [localName]: value } : void 0);
  return [
    reflect(desc, container),
    field,
    () => {
      const value2 = container[localName];
      if (value2 === void 0) {
        const desc2 = extension.message;
        if (isWrapperDesc(desc2)) {
          return scalarZeroValue(desc2.fields[0].scalar, desc2.fields[0].longAsString);
        }
        return create(desc2);
      }
      return value2;
    }
  ];
}
function assertExtendee(extension, message) {
  if (extension.extendee.typeName != message.$typeName) {
    throw new Error(`extension ${extension.typeName} can only be applied to message ${extension.extendee.typeName}`);
  }
}

// node_modules/@bufbuild/protobuf/dist/esm/to-json.js
var LEGACY_REQUIRED3 = 3;
var IMPLICIT4 = 2;
var jsonWriteDefaults = {
  alwaysEmitImplicit: false,
  enumAsInteger: false,
  useProtoFieldName: false
};
function makeWriteOptions2(options) {
  return options ? Object.assign(Object.assign({}, jsonWriteDefaults), options) : jsonWriteDefaults;
}
function toJson(schema, message, options) {
  return reflectToJson(reflect(schema, message), makeWriteOptions2(options));
}
function reflectToJson(msg, opts) {
  var _a;
  const wktJson = tryWktToJson(msg, opts);
  if (wktJson !== void 0)
    return wktJson;
  const json = {};
  for (const f of msg.sortedFields) {
    if (!msg.isSet(f)) {
      if (f.presence == LEGACY_REQUIRED3) {
        throw new Error(`cannot encode ${f} to JSON: required field not set`);
      }
      if (!opts.alwaysEmitImplicit || f.presence !== IMPLICIT4) {
        continue;
      }
    }
    const jsonValue = fieldToJson(f, msg.get(f), opts);
    if (jsonValue !== void 0) {
      json[jsonName(f, opts)] = jsonValue;
    }
  }
  if (opts.registry) {
    const tagSeen = /* @__PURE__ */ new Set();
    for (const { no } of (_a = msg.getUnknown()) !== null && _a !== void 0 ? _a : []) {
      if (!tagSeen.has(no)) {
        tagSeen.add(no);
        const extension = opts.registry.getExtensionFor(msg.desc, no);
        if (!extension) {
          continue;
        }
        const value = getExtension(msg.message, extension);
        const [container, field] = createExtensionContainer(extension, value);
        const jsonValue = fieldToJson(field, container.get(field), opts);
        if (jsonValue !== void 0) {
          json[extension.jsonName] = jsonValue;
        }
      }
    }
  }
  return json;
}
function fieldToJson(f, val, opts) {
  switch (f.fieldKind) {
    case "scalar":
      return scalarToJson(f, val);
    case "message":
      return reflectToJson(val, opts);
    case "enum":
      return enumToJsonInternal(f.enum, val, opts.enumAsInteger);
    case "list":
      return listToJson(val, opts);
    case "map":
      return mapToJson(val, opts);
  }
}
function mapToJson(map, opts) {
  const f = map.field();
  const jsonObj = {};
  switch (f.mapKind) {
    case "scalar":
      for (const [entryKey, entryValue] of map) {
        jsonObj[entryKey] = scalarToJson(f, entryValue);
      }
      break;
    case "message":
      for (const [entryKey, entryValue] of map) {
        jsonObj[entryKey] = reflectToJson(entryValue, opts);
      }
      break;
    case "enum":
      for (const [entryKey, entryValue] of map) {
        jsonObj[entryKey] = enumToJsonInternal(f.enum, entryValue, opts.enumAsInteger);
      }
      break;
  }
  return opts.alwaysEmitImplicit || map.size > 0 ? jsonObj : void 0;
}
function listToJson(list, opts) {
  const f = list.field();
  const jsonArr = [];
  switch (f.listKind) {
    case "scalar":
      for (const item of list) {
        jsonArr.push(scalarToJson(f, item));
      }
      break;
    case "enum":
      for (const item of list) {
        jsonArr.push(enumToJsonInternal(f.enum, item, opts.enumAsInteger));
      }
      break;
    case "message":
      for (const item of list) {
        jsonArr.push(reflectToJson(item, opts));
      }
      break;
  }
  return opts.alwaysEmitImplicit || jsonArr.length > 0 ? jsonArr : void 0;
}
function enumToJsonInternal(desc, value, enumAsInteger) {
  var _a;
  if (typeof value != "number") {
    throw new Error(`cannot encode ${desc} to JSON: expected number, got ${formatVal(value)}`);
  }
  if (desc.typeName == "google.protobuf.NullValue") {
    return null;
  }
  if (enumAsInteger) {
    return value;
  }
  const val = desc.value[value];
  return (_a = val === null || val === void 0 ? void 0 : val.name) !== null && _a !== void 0 ? _a : value;
}
function scalarToJson(field, value) {
  var _a, _b, _c, _d, _e, _f;
  switch (field.scalar) {
    // int32, fixed32, uint32: JSON value will be a decimal number. Either numbers or strings are accepted.
    case ScalarType.INT32:
    case ScalarType.SFIXED32:
    case ScalarType.SINT32:
    case ScalarType.FIXED32:
    case ScalarType.UINT32:
      if (typeof value != "number") {
        throw new Error(`cannot encode ${field} to JSON: ${(_a = checkField(field, value)) === null || _a === void 0 ? void 0 : _a.message}`);
      }
      return value;
    // float, double: JSON value will be a number or one of the special string values "NaN", "Infinity", and "-Infinity".
    // Either numbers or strings are accepted. Exponent notation is also accepted.
    case ScalarType.FLOAT:
    case ScalarType.DOUBLE:
      if (typeof value != "number") {
        throw new Error(`cannot encode ${field} to JSON: ${(_b = checkField(field, value)) === null || _b === void 0 ? void 0 : _b.message}`);
      }
      if (Number.isNaN(value))
        return "NaN";
      if (value === Number.POSITIVE_INFINITY)
        return "Infinity";
      if (value === Number.NEGATIVE_INFINITY)
        return "-Infinity";
      return value;
    // string:
    case ScalarType.STRING:
      if (typeof value != "string") {
        throw new Error(`cannot encode ${field} to JSON: ${(_c = checkField(field, value)) === null || _c === void 0 ? void 0 : _c.message}`);
      }
      return value;
    // bool:
    case ScalarType.BOOL:
      if (typeof value != "boolean") {
        throw new Error(`cannot encode ${field} to JSON: ${(_d = checkField(field, value)) === null || _d === void 0 ? void 0 : _d.message}`);
      }
      return value;
    // JSON value will be a decimal string. Either numbers or strings are accepted.
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
    case ScalarType.INT64:
    case ScalarType.SFIXED64:
    case ScalarType.SINT64:
      if (typeof value == "bigint" || typeof value == "string" || typeof value == "number" && Number.isInteger(value)) {
        return value.toString();
      }
      throw new Error(`cannot encode ${field} to JSON: ${(_e = checkField(field, value)) === null || _e === void 0 ? void 0 : _e.message}`);
    // bytes: JSON value will be the data encoded as a string using standard base64 encoding with paddings.
    // Either standard or URL-safe base64 encoding with/without paddings are accepted.
    case ScalarType.BYTES:
      if (value instanceof Uint8Array) {
        return base64Encode(value);
      }
      throw new Error(`cannot encode ${field} to JSON: ${(_f = checkField(field, value)) === null || _f === void 0 ? void 0 : _f.message}`);
  }
}
function jsonName(f, opts) {
  return opts.useProtoFieldName ? f.name : f.jsonName;
}
function tryWktToJson(msg, opts) {
  if (!msg.desc.typeName.startsWith("google.protobuf.")) {
    return void 0;
  }
  switch (msg.desc.typeName) {
    case "google.protobuf.Any":
      return anyToJson(msg.message, opts);
    case "google.protobuf.Timestamp":
      return timestampToJson(msg.message);
    case "google.protobuf.Duration":
      return durationToJson(msg.message);
    case "google.protobuf.FieldMask":
      return fieldMaskToJson(msg.message);
    case "google.protobuf.Struct":
      return structToJson(msg.message);
    case "google.protobuf.Value":
      return valueToJson(msg.message);
    case "google.protobuf.ListValue":
      return listValueToJson(msg.message);
    default:
      if (isWrapperDesc(msg.desc)) {
        const valueField = msg.desc.fields[0];
        return scalarToJson(valueField, msg.get(valueField));
      }
      return void 0;
  }
}
function anyToJson(val, opts) {
  if (val.typeUrl === "") {
    return {};
  }
  const { registry } = opts;
  let message;
  let desc;
  if (registry) {
    message = anyUnpack(val, registry);
    if (message) {
      desc = registry.getMessage(message.$typeName);
    }
  }
  if (!desc || !message) {
    throw new Error(`cannot encode message ${val.$typeName} to JSON: "${val.typeUrl}" is not in the type registry`);
  }
  const reflected = reflect(desc, message);
  const json = hasCustomJsonRepresentation(desc) ? { value: tryWktToJson(reflected, opts) } : reflectToJson(reflected, opts);
  json["@type"] = val.typeUrl;
  return json;
}
function durationToJson(val) {
  const seconds = Number(val.seconds);
  const nanos = val.nanos;
  if (seconds > 315576e6 || seconds < -315576e6) {
    throw new Error(`cannot encode message ${val.$typeName} to JSON: value out of range`);
  }
  if (seconds > 0 && nanos < 0 || seconds < 0 && nanos > 0) {
    throw new Error(`cannot encode message ${val.$typeName} to JSON: nanos sign must match seconds sign`);
  }
  let text = val.seconds.toString();
  if (nanos !== 0) {
    let nanosStr = Math.abs(nanos).toString();
    nanosStr = "0".repeat(9 - nanosStr.length) + nanosStr;
    if (nanosStr.substring(3) === "000000") {
      nanosStr = nanosStr.substring(0, 3);
    } else if (nanosStr.substring(6) === "000") {
      nanosStr = nanosStr.substring(0, 6);
    }
    text += "." + nanosStr;
    if (nanos < 0 && seconds == 0) {
      text = "-" + text;
    }
  }
  return text + "s";
}
function fieldMaskToJson(val) {
  return val.paths.map((p) => {
    if (protoSnakeCase(protoCamelCase(p)) !== p) {
      throw new Error(`cannot encode message ${val.$typeName} to JSON: lowerCamelCase of path name "${p}" is irreversible`);
    }
    return protoCamelCase(p);
  }).join(",");
}
function structToJson(val) {
  const json = {};
  for (const [k, v] of Object.entries(val.fields)) {
    json[k] = valueToJson(v);
  }
  return json;
}
function valueToJson(val) {
  switch (val.kind.case) {
    case "nullValue":
      return null;
    case "numberValue":
      if (!Number.isFinite(val.kind.value)) {
        throw new Error(`${val.$typeName} cannot be NaN or Infinity`);
      }
      return val.kind.value;
    case "boolValue":
      return val.kind.value;
    case "stringValue":
      return val.kind.value;
    case "structValue":
      return structToJson(val.kind.value);
    case "listValue":
      return listValueToJson(val.kind.value);
    default:
      throw new Error(`${val.$typeName} must have a value`);
  }
}
function listValueToJson(val) {
  return val.values.map(valueToJson);
}
function timestampToJson(val) {
  const ms = Number(val.seconds) * 1e3;
  if (ms < Date.parse("0001-01-01T00:00:00Z") || ms > Date.parse("9999-12-31T23:59:59Z")) {
    throw new Error(`cannot encode message ${val.$typeName} to JSON: must be from 0001-01-01T00:00:00Z to 9999-12-31T23:59:59Z inclusive`);
  }
  if (val.nanos < 0) {
    throw new Error(`cannot encode message ${val.$typeName} to JSON: nanos must not be negative`);
  }
  if (val.nanos > 999999999) {
    throw new Error(`cannot encode message ${val.$typeName} to JSON: nanos must not be greater than 99999999`);
  }
  let z = "Z";
  if (val.nanos > 0) {
    const nanosStr = (val.nanos + 1e9).toString().substring(1);
    if (nanosStr.substring(3) === "000000") {
      z = "." + nanosStr.substring(0, 3) + "Z";
    } else if (nanosStr.substring(6) === "000") {
      z = "." + nanosStr.substring(0, 6) + "Z";
    } else {
      z = "." + nanosStr + "Z";
    }
  }
  return new Date(ms).toISOString().replace(".000Z", z);
}

// node_modules/@bufbuild/protobuf/dist/esm/from-json.js
function makeReadContext2(options) {
  return Object.assign(Object.assign({ ignoreUnknownFields: false, recursionLimit: 100 }, options), { depth: 0 });
}
function fromJson(schema, json, options) {
  const msg = reflect(schema);
  try {
    readMessage2(msg, json, makeReadContext2(options));
  } catch (e) {
    if (isFieldError(e)) {
      throw new Error(`cannot decode ${e.field()} from JSON: ${e.message}`, {
        cause: e
      });
    }
    throw e;
  }
  return msg.message;
}
var messageJsonFields = /* @__PURE__ */ new WeakMap();
function getJsonField(desc, jsonKey) {
  var _a;
  if (!messageJsonFields.has(desc)) {
    const jsonNames = /* @__PURE__ */ new Map();
    for (const field of desc.fields) {
      jsonNames.set(field.name, field).set(field.jsonName, field);
    }
    messageJsonFields.set(desc, jsonNames);
  }
  return (_a = messageJsonFields.get(desc)) === null || _a === void 0 ? void 0 : _a.get(jsonKey);
}
function readMessage2(msg, json, ctx) {
  var _a;
  if (++ctx.depth > ctx.recursionLimit) {
    throw new Error(`cannot decode ${msg.desc} from JSON: maximum recursion depth of ${ctx.recursionLimit} reached`);
  }
  if (tryWktFromJson(msg, json, ctx)) {
    ctx.depth--;
    return;
  }
  if (json == null || Array.isArray(json) || typeof json != "object") {
    throw new Error(`cannot decode ${msg.desc} from JSON: ${formatVal(json)}`);
  }
  const oneofSeen = /* @__PURE__ */ new Map();
  const fieldSeen = /* @__PURE__ */ new Set();
  for (const [jsonKey, jsonValue] of Object.entries(json)) {
    const field = getJsonField(msg.desc, jsonKey);
    if (field) {
      if (fieldSeen.has(field)) {
        throw new FieldError(field, "set multiple times");
      }
      fieldSeen.add(field);
      if (field.oneof && jsonValue === null && field.fieldKind == "scalar") {
        continue;
      }
      if (field.oneof) {
        const seen = oneofSeen.get(field.oneof);
        if (seen !== void 0) {
          throw new FieldError(field.oneof, `oneof set multiple times by ${seen.name} and ${field.name}`);
        }
        oneofSeen.set(field.oneof, field);
      }
      readField2(msg, field, jsonValue, ctx);
    } else {
      let extension = void 0;
      if (jsonKey.startsWith("[") && jsonKey.endsWith("]") && // biome-ignore lint/suspicious/noAssignInExpressions: no
      (extension = (_a = ctx.registry) === null || _a === void 0 ? void 0 : _a.getExtension(jsonKey.substring(1, jsonKey.length - 1))) && extension.extendee.typeName === msg.desc.typeName) {
        const [container, field2, get] = createExtensionContainer(extension);
        readField2(container, field2, jsonValue, ctx);
        setExtension(msg.message, extension, get());
      }
      if (!extension && !ctx.ignoreUnknownFields) {
        throw new Error(`cannot decode ${msg.desc} from JSON: key "${jsonKey}" is unknown`);
      }
    }
  }
  ctx.depth--;
}
function readField2(msg, field, json, ctx) {
  switch (field.fieldKind) {
    case "scalar":
      readScalarField(msg, field, json);
      break;
    case "enum":
      readEnumField(msg, field, json, ctx);
      break;
    case "message":
      readMessageField2(msg, field, json, ctx);
      break;
    case "list":
      readListField2(msg.get(field), json, ctx);
      break;
    case "map":
      readMapField(msg.get(field), json, ctx);
      break;
  }
}
function readListOrMapItem(field, json, ctx) {
  if (field.scalar && json !== null) {
    return scalarFromJson(field, json);
  }
  if (field.message && !isResetSentinelNullValue(field, json)) {
    const msgValue = reflect(field.message);
    readMessage2(msgValue, json, ctx);
    return msgValue;
  }
  if (field.enum && !isResetSentinelNullValue(field, json)) {
    return readEnum(field.enum, json, ctx.ignoreUnknownFields);
  }
  throw new FieldError(field, `${field.fieldKind === "list" ? "list item" : "map value"} must not be null`);
}
function readMapField(map, json, ctx) {
  if (json === null) {
    return;
  }
  const field = map.field();
  if (typeof json != "object" || Array.isArray(json)) {
    throw new FieldError(field, "expected object, got " + formatVal(json));
  }
  const seen = /* @__PURE__ */ new Set();
  for (const [jsonMapKey, jsonMapValue] of Object.entries(json)) {
    const key = mapKeyFromJson(field.mapKey, jsonMapKey);
    if (seen.has(key)) {
      throw new FieldError(field, `duplicate map key "${jsonMapKey}"`);
    }
    seen.add(key);
    const value = readListOrMapItem(field, jsonMapValue, ctx);
    if (value !== tokenIgnoredUnknownEnum) {
      map.set(key, value);
    }
  }
}
function readListField2(list, json, ctx) {
  if (json === null) {
    return;
  }
  const field = list.field();
  if (!Array.isArray(json)) {
    throw new FieldError(field, "expected Array, got " + formatVal(json));
  }
  for (const jsonItem of json) {
    const value = readListOrMapItem(field, jsonItem, ctx);
    if (value !== tokenIgnoredUnknownEnum) {
      list.add(value);
    }
  }
}
function readMessageField2(msg, field, json, ctx) {
  if (isResetSentinelNullValue(field, json)) {
    msg.clear(field);
    return;
  }
  const msgValue = msg.isSet(field) ? msg.get(field) : reflect(field.message);
  readMessage2(msgValue, json, ctx);
  msg.set(field, msgValue);
}
function readEnumField(msg, field, json, ctx) {
  if (isResetSentinelNullValue(field, json)) {
    msg.clear(field);
    return;
  }
  const enumValue = readEnum(field.enum, json, ctx.ignoreUnknownFields);
  if (enumValue !== tokenIgnoredUnknownEnum) {
    msg.set(field, enumValue);
  }
}
function readScalarField(msg, field, json) {
  if (json === null) {
    msg.clear(field);
  } else {
    msg.set(field, scalarFromJson(field, json));
  }
}
function isResetSentinelNullValue(field, json) {
  var _a, _b;
  return json === null && ((_a = field.message) === null || _a === void 0 ? void 0 : _a.typeName) != "google.protobuf.Value" && ((_b = field.enum) === null || _b === void 0 ? void 0 : _b.typeName) != "google.protobuf.NullValue";
}
var tokenIgnoredUnknownEnum = /* @__PURE__ */ Symbol();
function readEnum(desc, json, ignoreUnknownFields) {
  if (json === null) {
    return desc.values[0].number;
  }
  switch (typeof json) {
    case "number":
      if (Number.isInteger(json)) {
        return json;
      }
      break;
    case "string":
      const value = desc.values.find((ev) => ev.name === json);
      if (value !== void 0) {
        return value.number;
      }
      if (ignoreUnknownFields) {
        return tokenIgnoredUnknownEnum;
      }
      break;
  }
  throw new Error(`cannot decode ${desc} from JSON: ${formatVal(json)}`);
}
function scalarFromJson(field, json) {
  switch (field.scalar) {
    // float, double: JSON value will be a number or one of the special string values "NaN", "Infinity", and "-Infinity".
    // Either numbers or strings are accepted. Exponent notation is also accepted.
    case ScalarType.DOUBLE:
    case ScalarType.FLOAT:
      if (json === "NaN")
        return NaN;
      if (json === "Infinity")
        return Number.POSITIVE_INFINITY;
      if (json === "-Infinity")
        return Number.NEGATIVE_INFINITY;
      if (typeof json == "number") {
        if (Number.isNaN(json)) {
          throw new FieldError(field, "unexpected NaN number");
        }
        if (!Number.isFinite(json)) {
          throw new FieldError(field, "unexpected infinite number");
        }
        break;
      }
      if (typeof json == "string") {
        if (json === "") {
          break;
        }
        if (json.trim().length !== json.length) {
          break;
        }
        const float = Number(json);
        if (!Number.isFinite(float)) {
          break;
        }
        return float;
      }
      break;
    // int32, fixed32, uint32: JSON value will be a decimal number. Either numbers or strings are accepted.
    case ScalarType.INT32:
    case ScalarType.FIXED32:
    case ScalarType.SFIXED32:
    case ScalarType.SINT32:
    case ScalarType.UINT32:
      return int32FromJson(json);
    // bytes: JSON value will be the data encoded as a string using standard base64 encoding with paddings.
    // Either standard or URL-safe base64 encoding with/without paddings are accepted.
    case ScalarType.BYTES:
      if (typeof json == "string") {
        if (json === "") {
          return new Uint8Array(0);
        }
        try {
          return base64Decode(json);
        } catch (e) {
          const message = e instanceof Error ? e.message : String(e);
          throw new FieldError(field, message);
        }
      }
      break;
  }
  return json;
}
function mapKeyFromJson(type, jsonString) {
  switch (type) {
    case ScalarType.BOOL:
      switch (jsonString) {
        case "true":
          return true;
        case "false":
          return false;
      }
      return jsonString;
    case ScalarType.INT32:
    case ScalarType.FIXED32:
    case ScalarType.UINT32:
    case ScalarType.SFIXED32:
    case ScalarType.SINT32:
      return int32FromJson(jsonString);
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.SFIXED64:
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      return /^-?0+$/.test(jsonString) ? "0" : jsonString.replace(/^(-?)0+(?=\d)/, "$1");
    default:
      return jsonString;
  }
}
function int32FromJson(json) {
  if (typeof json == "string") {
    if (json === "") {
      return json;
    }
    if (json.trim().length !== json.length) {
      return json;
    }
    const num = Number(json);
    if (Number.isNaN(num)) {
      return json;
    }
    return num;
  }
  return json;
}
function tryWktFromJson(msg, jsonValue, ctx) {
  if (!msg.desc.typeName.startsWith("google.protobuf.")) {
    return false;
  }
  switch (msg.desc.typeName) {
    case "google.protobuf.Any":
      anyFromJson(msg.message, jsonValue, ctx);
      return true;
    case "google.protobuf.Timestamp":
      timestampFromJson(msg.message, jsonValue);
      return true;
    case "google.protobuf.Duration":
      durationFromJson(msg.message, jsonValue);
      return true;
    case "google.protobuf.FieldMask":
      fieldMaskFromJson(msg.message, jsonValue);
      return true;
    case "google.protobuf.Struct":
      structFromJson(msg.message, jsonValue, ctx);
      return true;
    case "google.protobuf.Value":
      valueFromJson(msg.message, jsonValue, ctx);
      return true;
    case "google.protobuf.ListValue":
      listValueFromJson(msg.message, jsonValue, ctx);
      return true;
    default:
      if (isWrapperDesc(msg.desc)) {
        const valueField = msg.desc.fields[0];
        if (jsonValue === null) {
          msg.clear(valueField);
        } else {
          msg.set(valueField, scalarFromJson(valueField, jsonValue));
        }
        return true;
      }
      return false;
  }
}
function anyFromJson(any, json, ctx) {
  var _a;
  if (json === null || Array.isArray(json) || typeof json != "object") {
    throw new Error(`cannot decode message ${any.$typeName} from JSON: expected object but got ${formatVal(json)}`);
  }
  if (Object.keys(json).length == 0) {
    return;
  }
  const typeUrl = json["@type"];
  if (typeof typeUrl != "string" || typeUrl == "") {
    throw new Error(`cannot decode message ${any.$typeName} from JSON: "@type" is empty`);
  }
  const typeName = typeUrl.includes("/") ? typeUrl.substring(typeUrl.lastIndexOf("/") + 1) : typeUrl;
  if (!typeName.length) {
    throw new Error(`cannot decode message ${any.$typeName} from JSON: "@type" is invalid`);
  }
  const desc = (_a = ctx.registry) === null || _a === void 0 ? void 0 : _a.getMessage(typeName);
  if (!desc) {
    throw new Error(`cannot decode message ${any.$typeName} from JSON: ${typeUrl} is not in the type registry`);
  }
  const msg = reflect(desc);
  if (hasCustomJsonRepresentation(desc) && Object.prototype.hasOwnProperty.call(json, "value")) {
    const value = json.value;
    readMessage2(msg, value, ctx);
  } else {
    const copy = Object.assign({}, json);
    delete copy["@type"];
    readMessage2(msg, copy, ctx);
  }
  anyPack(msg.desc, msg.message, any);
}
function timestampFromJson(timestamp, json) {
  if (typeof json !== "string") {
    throw new Error(`cannot decode message ${timestamp.$typeName} from JSON: ${formatVal(json)}`);
  }
  const matches = json.match(/^([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]{1,9}))?(?:Z|([+-][0-9][0-9]:[0-9][0-9]))$/);
  if (!matches) {
    throw new Error(`cannot decode message ${timestamp.$typeName} from JSON: invalid RFC 3339 string`);
  }
  const ms = Date.parse(
    // biome-ignore format: want this to read well
    matches[1] + "-" + matches[2] + "-" + matches[3] + "T" + matches[4] + ":" + matches[5] + ":" + matches[6] + (matches[8] ? matches[8] : "Z")
  );
  if (Number.isNaN(ms)) {
    throw new Error(`cannot decode message ${timestamp.$typeName} from JSON: invalid RFC 3339 string`);
  }
  if (ms < Date.parse("0001-01-01T00:00:00Z") || ms > Date.parse("9999-12-31T23:59:59Z")) {
    throw new Error(`cannot decode message ${timestamp.$typeName} from JSON: must be from 0001-01-01T00:00:00Z to 9999-12-31T23:59:59Z inclusive`);
  }
  timestamp.seconds = protoInt64.parse(ms / 1e3);
  timestamp.nanos = 0;
  if (matches[7]) {
    timestamp.nanos = parseInt("1" + matches[7] + "0".repeat(9 - matches[7].length)) - 1e9;
  }
}
function durationFromJson(duration, json) {
  if (typeof json !== "string") {
    throw new Error(`cannot decode message ${duration.$typeName} from JSON: ${formatVal(json)}`);
  }
  const match = json.match(/^(-?[0-9]+)(?:\.([0-9]+))?s/);
  if (match === null) {
    throw new Error(`cannot decode message ${duration.$typeName} from JSON: ${formatVal(json)}`);
  }
  const longSeconds = Number(match[1]);
  if (longSeconds > 315576e6 || longSeconds < -315576e6) {
    throw new Error(`cannot decode message ${duration.$typeName} from JSON: ${formatVal(json)}`);
  }
  duration.seconds = protoInt64.parse(longSeconds);
  if (typeof match[2] !== "string") {
    return;
  }
  const nanosStr = match[2] + "0".repeat(9 - match[2].length);
  duration.nanos = parseInt(nanosStr);
  if (longSeconds < 0 || Object.is(longSeconds, -0)) {
    duration.nanos = -duration.nanos;
  }
}
function fieldMaskFromJson(fieldMask, json) {
  if (typeof json !== "string") {
    throw new Error(`cannot decode message ${fieldMask.$typeName} from JSON: ${formatVal(json)}`);
  }
  if (json === "") {
    return;
  }
  fieldMask.paths = json.split(",").map((path) => {
    if (path.includes("_")) {
      throw new Error(`cannot decode message ${fieldMask.$typeName} from JSON: path names must be lowerCamelCase`);
    }
    return protoSnakeCase(path);
  });
}
function structFromJson(struct, json, ctx) {
  if (typeof json != "object" || json == null || Array.isArray(json)) {
    throw new Error(`cannot decode message ${struct.$typeName} from JSON ${formatVal(json)}`);
  }
  for (const [k, v] of Object.entries(json)) {
    const parsedV = create(ValueSchema);
    valueFromJson(parsedV, v, ctx);
    struct.fields[k] = parsedV;
  }
}
function valueFromJson(value, json, ctx) {
  if (++ctx.depth > ctx.recursionLimit) {
    throw new Error(`cannot decode ${value.$typeName} from JSON: maximum recursion depth of ${ctx.recursionLimit} reached`);
  }
  switch (typeof json) {
    case "number":
      value.kind = { case: "numberValue", value: json };
      break;
    case "string":
      value.kind = { case: "stringValue", value: json };
      break;
    case "boolean":
      value.kind = { case: "boolValue", value: json };
      break;
    case "object":
      if (json === null) {
        value.kind = { case: "nullValue", value: NullValue.NULL_VALUE };
      } else if (Array.isArray(json)) {
        const listValue = create(ListValueSchema);
        listValueFromJson(listValue, json, ctx);
        value.kind = { case: "listValue", value: listValue };
      } else {
        const struct = create(StructSchema);
        structFromJson(struct, json, ctx);
        value.kind = { case: "structValue", value: struct };
      }
      break;
    default:
      throw new Error(`cannot decode message ${value.$typeName} from JSON ${formatVal(json)}`);
  }
  ctx.depth--;
  return value;
}
function listValueFromJson(listValue, json, ctx) {
  if (!Array.isArray(json)) {
    throw new Error(`cannot decode message ${listValue.$typeName} from JSON ${formatVal(json)}`);
  }
  for (const e of json) {
    const value = create(ValueSchema);
    valueFromJson(value, e, ctx);
    listValue.values.push(value);
  }
}

// ../js/src/gen/plenary/v1/client_pb.ts
var file_plenary_v1_client = /* @__PURE__ */ fileDesc("ChdwbGVuYXJ5L3YxL2NsaWVudC5wcm90bxIKcGxlbmFyeS52MSLiCgoLQ2xpZW50RnJhbWUSCgoCaWQYASABKAQSJgoHY29ubmVjdBgKIAEoCzITLnBsZW5hcnkudjEuQ29ubmVjdEgAEiAKBGpvaW4YCyABKAsyEC5wbGVuYXJ5LnYxLkpvaW5IABIiCgVsZWF2ZRgMIAEoCzIRLnBsZW5hcnkudjEuTGVhdmVIABInCgRzZW5kGA0gASgLMhcucGxlbmFyeS52MS5TZW5kTWVzc2FnZUgAEicKBGxpa2UYDiABKAsyFy5wbGVuYXJ5LnYxLkxpa2VNZXNzYWdlSAASKwoGdW5saWtlGA8gASgLMhkucGxlbmFyeS52MS5Vbmxpa2VNZXNzYWdlSAASKwoGZGVsZXRlGBAgASgLMhkucGxlbmFyeS52MS5EZWxldGVNZXNzYWdlSAASJQoDcGluGBEgASgLMhYucGxlbmFyeS52MS5QaW5NZXNzYWdlSAASKQoFdW5waW4YEiABKAsyGC5wbGVuYXJ5LnYxLlVucGluTWVzc2FnZUgAEiYKBWJsb2NrGBMgASgLMhUucGxlbmFyeS52MS5CbG9ja1VzZXJIABIqCgd1bmJsb2NrGBQgASgLMhcucGxlbmFyeS52MS5VbmJsb2NrVXNlckgAEiAKBHBpbmcYFSABKAsyEC5wbGVuYXJ5LnYxLlBpbmdIABItCgtwb3N0X3VwZGF0ZRgWIAEoCzIWLnBsZW5hcnkudjEuUG9zdFVwZGF0ZUgAEh4KA2FzaxgXIAEoCzIPLnBsZW5hcnkudjEuQXNrSAASMQoNdGhyZWFkX2FjdGlvbhgYIAEoCzIYLnBsZW5hcnkudjEuVGhyZWFkQWN0aW9uSAASKwoKcHVibGlzaF9xYRgZIAEoCzIVLnBsZW5hcnkudjEuUHVibGlzaFFhSAASKgoJdW5wdWJsaXNoGBogASgLMhUucGxlbmFyeS52MS5VbnB1Ymxpc2hIABIvCgxwcml2YXRlX29wZW4YGyABKAsyFy5wbGVuYXJ5LnYxLlByaXZhdGVPcGVuSAASMgoKY29ubmVjdGlvbhgcIAEoCzIcLnBsZW5hcnkudjEuQ29ubmVjdGlvbkFjdGlvbkgAEikKB2RtX3NlbmQYHSABKAsyFi5wbGVuYXJ5LnYxLkRpcmVjdFNlbmRIABItCglkbV9kZWxldGUYHiABKAsyGC5wbGVuYXJ5LnYxLkRpcmVjdERlbGV0ZUgAEikKB2RtX3JlYWQYHyABKAsyFi5wbGVuYXJ5LnYxLkRpcmVjdFJlYWRIABIvCgpkbV9oaXN0b3J5GCAgASgLMhkucGxlbmFyeS52MS5EaXJlY3RIaXN0b3J5SAASLgoIc2V0dGluZ3MYISABKAsyGi5wbGVuYXJ5LnYxLlVwZGF0ZVNldHRpbmdzSAASKAoGcGVvcGxlGCIgASgLMhYucGxlbmFyeS52MS5GaW5kUGVvcGxlSAASNwoQc2F2ZV9pbnRlcmFjdGlvbhgjIAEoCzIbLnBsZW5hcnkudjEuU2F2ZUludGVyYWN0aW9uSAASOwoSaW50ZXJhY3Rpb25fYWN0aW9uGCQgASgLMh0ucGxlbmFyeS52MS5JbnRlcmFjdGlvbkFjdGlvbkgAEiAKBHZvdGUYJSABKAsyEC5wbGVuYXJ5LnYxLlZvdGVIABIiCgVyZWFjdBgmIAEoCzIRLnBsZW5hcnkudjEuUmVhY3RIABImCgdoaXN0b3J5GCcgASgLMhMucGxlbmFyeS52MS5IaXN0b3J5SAASJgoHcmVmcmVzaBgoIAEoCzITLnBsZW5hcnkudjEuUmVmcmVzaEgAQgkKB2NvbW1hbmQiGAoHQ29ubmVjdBINCgV0b2tlbhgBIAEoCSIYCgdSZWZyZXNoEg0KBXRva2VuGAEgASgJIiYKCFBvc2l0aW9uEg0KBWVwb2NoGAEgASgEEgsKA3NlcRgCIAEoBCI/CgRKb2luEhIKCmNvbnRleHRfaWQYASABKAkSIwoFc2luY2UYAiABKAsyFC5wbGVuYXJ5LnYxLlBvc2l0aW9uIhsKBUxlYXZlEhIKCmNvbnRleHRfaWQYASABKAkigAEKC1NlbmRNZXNzYWdlEhIKCmNvbnRleHRfaWQYASABKAkSDAoEdGV4dBgCIAEoCRIVCg1jbGllbnRfbXNnX2lkGAMgASgJEhAKCHJlcGx5X3RvGAQgASgEEhMKC2JhY2tjaGFubmVsGAUgASgIEhEKCXRocmVhZF9pZBgGIAEoBCJRCgNBc2sSEgoKY29udGV4dF9pZBgBIAEoCRIMCgR0ZXh0GAIgASgJEhUKDWNsaWVudF9tc2dfaWQYAyABKAkSEQoJdGhyZWFkX2lkGAQgASgEIloKCVB1Ymxpc2hRYRISCgpjb250ZXh0X2lkGAEgASgJEhEKCXRocmVhZF9pZBgCIAEoBBITCgtxdWVzdGlvbl9pZBgDIAEoBBIRCglhbnN3ZXJfaWQYBCABKAQiMAoJVW5wdWJsaXNoEhIKCmNvbnRleHRfaWQYASABKAkSDwoHaXRlbV9pZBgCIAEoBCJjCgxUaHJlYWRBY3Rpb24SEgoKY29udGV4dF9pZBgBIAEoCRIRCgl0aHJlYWRfaWQYAiABKAQSLAoGYWN0aW9uGAMgASgOMhwucGxlbmFyeS52MS5UaHJlYWRBY3Rpb25LaW5kIkwKClBvc3RVcGRhdGUSEgoKY29udGV4dF9pZBgBIAEoCRINCgV0aXRsZRgCIAEoCRIMCgR0ZXh0GAMgASgJEg0KBXRvYXN0GAQgASgIIjUKC0xpa2VNZXNzYWdlEhIKCmNvbnRleHRfaWQYASABKAkSEgoKbWVzc2FnZV9pZBgCIAEoBCI3Cg1Vbmxpa2VNZXNzYWdlEhIKCmNvbnRleHRfaWQYASABKAkSEgoKbWVzc2FnZV9pZBgCIAEoBCI3Cg1EZWxldGVNZXNzYWdlEhIKCmNvbnRleHRfaWQYASABKAkSEgoKbWVzc2FnZV9pZBgCIAEoBCI0CgpQaW5NZXNzYWdlEhIKCmNvbnRleHRfaWQYASABKAkSEgoKbWVzc2FnZV9pZBgCIAEoBCI2CgxVbnBpbk1lc3NhZ2USEgoKY29udGV4dF9pZBgBIAEoCRISCgptZXNzYWdlX2lkGAIgASgEIjAKCUJsb2NrVXNlchISCgpjb250ZXh0X2lkGAEgASgJEg8KB3VzZXJfaWQYAiABKAkiMgoLVW5ibG9ja1VzZXISEgoKY29udGV4dF9pZBgBIAEoCRIPCgd1c2VyX2lkGAIgASgJIgYKBFBpbmciMgoLUHJpdmF0ZU9wZW4SIwoFc2luY2UYASABKAsyFC5wbGVuYXJ5LnYxLlBvc2l0aW9uIlUKEENvbm5lY3Rpb25BY3Rpb24SDwoHdXNlcl9pZBgBIAEoCRIwCgZhY3Rpb24YAiABKA4yIC5wbGVuYXJ5LnYxLkNvbm5lY3Rpb25BY3Rpb25LaW5kIkIKCkRpcmVjdFNlbmQSDwoHdXNlcl9pZBgBIAEoCRIMCgR0ZXh0GAIgASgJEhUKDWNsaWVudF9tc2dfaWQYAyABKAkiMwoMRGlyZWN0RGVsZXRlEg8KB3VzZXJfaWQYASABKAkSEgoKbWVzc2FnZV9pZBgCIAEoBCIxCgpEaXJlY3RSZWFkEg8KB3VzZXJfaWQYASABKAkSEgoKbWVzc2FnZV9pZBgCIAEoBCJCCg1EaXJlY3RIaXN0b3J5Eg8KB3VzZXJfaWQYASABKAkSEQoJYmVmb3JlX2lkGAIgASgEEg0KBWxpbWl0GAMgASgNIooBCg5VcGRhdGVTZXR0aW5ncxISCgV0b2FzdBgBIAEoCEgAiAEBEhkKDHByaXZhdGVfY2hhdBgCIAEoCEgBiAEBEhsKDnNob3dfbGFzdF9uYW1lGAMgASgISAKIAQFCCAoGX3RvYXN0Qg8KDV9wcml2YXRlX2NoYXRCEQoPX3Nob3dfbGFzdF9uYW1lIioKCkZpbmRQZW9wbGUSDQoFcXVlcnkYASABKAkSDQoFbGltaXQYAiABKA0iXAoLU2VydmVyRnJhbWUSIgoFcmVwbHkYASABKAsyES5wbGVuYXJ5LnYxLlJlcGx5SAASIAoEcHVzaBgCIAEoCzIQLnBsZW5hcnkudjEuUHVzaEgAQgcKBWZyYW1lIqMECgVSZXBseRIKCgJpZBgBIAEoBBIiCgVlcnJvchgCIAEoCzIRLnBsZW5hcnkudjEuRXJyb3JIABIoCgdjb25uZWN0GAogASgLMhUucGxlbmFyeS52MS5Db25uZWN0T2tIABIiCgRqb2luGAsgASgLMhIucGxlbmFyeS52MS5Kb2luT2tIABIeCgNhY2sYDCABKAsyDy5wbGVuYXJ5LnYxLkFja0gAEiIKBHNlbmQYDSABKAsyEi5wbGVuYXJ5LnYxLlNlbmRPa0gAEiIKBGxpa2UYDiABKAsyEi5wbGVuYXJ5LnYxLkxpa2VPa0gAEiAKBHBvbmcYDyABKAsyEC5wbGVuYXJ5LnYxLlBvbmdIABItCgxwcml2YXRlX29wZW4YECABKAsyFS5wbGVuYXJ5LnYxLlByaXZhdGVPa0gAEjEKCmRtX2hpc3RvcnkYESABKAsyGy5wbGVuYXJ5LnYxLkRpcmVjdEhpc3RvcnlPa0gAEiYKBnBlb3BsZRgSIAEoCzIULnBsZW5hcnkudjEuUGVvcGxlT2tIABIwCgtpbnRlcmFjdGlvbhgTIAEoCzIZLnBsZW5hcnkudjEuSW50ZXJhY3Rpb25Pa0gAEiIKBHZvdGUYFCABKAsyEi5wbGVuYXJ5LnYxLlZvdGVPa0gAEigKB2hpc3RvcnkYFSABKAsyFS5wbGVuYXJ5LnYxLkhpc3RvcnlPa0gAQggKBnJlc3VsdCJVCgVFcnJvchIjCgRjb2RlGAEgASgOMhUucGxlbmFyeS52MS5FcnJvckNvZGUSDwoHbWVzc2FnZRgCIAEoCRIWCg5yZXRyeV9hZnRlcl9tcxgDIAEoBCJpCglDb25uZWN0T2sSDwoHdXNlcl9pZBgBIAEoCRIWCg5zZXJ2ZXJfdGltZV9tcxgCIAEoBBIiCgZsaW1pdHMYAyABKAsyEi5wbGVuYXJ5LnYxLkxpbWl0cxIPCgdub2RlX2lkGAQgASgJIocBCgZMaW1pdHMSFwoPbWF4X2ZyYW1lX2J5dGVzGAEgASgNEhYKDm1heF90ZXh0X2NoYXJzGAIgASgNEhgKEGNvbW1hbmRzX3Blcl9zZWMYAyABKA0SFQoNY29tbWFuZF9idXJzdBgEIAEoDRIbChNtYXhfam9pbmVkX2NvbnRleHRzGAUgASgNIqwBCgtDb250ZXh0SW5mbxIKCgJpZBgBIAEoCRIMCgRuYW1lGAIgASgJEhQKDHN0YXJ0c19hdF9tcxgDIAEoBBISCgplbmRzX2F0X21zGAQgASgEEhwKFHJlZ2lzdGVyZWRfYXR0ZW5kZWVzGAUgASgNEiMKB3FhX21vZGUYBiABKA4yEi5wbGVuYXJ5LnYxLlFhTW9kZRIWCg5zbG93X21vZGVfc2VjcxgHIAEoDSLLAQoGSm9pbk9rEigKB2NvbnRleHQYASABKAsyFy5wbGVuYXJ5LnYxLkNvbnRleHRJbmZvEh4KBHJvbGUYAiABKA4yEC5wbGVuYXJ5LnYxLlJvbGUSDQoFZXBvY2gYAyABKAQSCwoDc2VxGAQgASgEEhEKCXJlY292ZXJlZBgFIAEoCBIgCgZtaXNzZWQYBiADKAsyEC5wbGVuYXJ5LnYxLlB1c2gSJgoIc25hcHNob3QYByABKAsyFC5wbGVuYXJ5LnYxLlNuYXBzaG90Io0ECghTbmFwc2hvdBIpCghtZXNzYWdlcxgBIAMoCzIXLnBsZW5hcnkudjEuQ2hhdE1lc3NhZ2USJwoGcGlubmVkGAIgAygLMhcucGxlbmFyeS52MS5DaGF0TWVzc2FnZRITCgtsaWtlZF9ieV9tZRgDIAMoBBIPCgdibG9ja2VkGAQgASgIEi4KDWJsb2NrZWRfdXNlcnMYBSADKAsyFy5wbGVuYXJ5LnYxLkJsb2NrZWRVc2VyEiwKC2JhY2tjaGFubmVsGAYgAygLMhcucGxlbmFyeS52MS5DaGF0TWVzc2FnZRIjCgd1cGRhdGVzGAcgAygLMhIucGxlbmFyeS52MS5VcGRhdGUSJQoHdGhyZWFkcxgIIAMoCzIULnBsZW5hcnkudjEuUWFUaHJlYWQSMAoPdGhyZWFkX21lc3NhZ2VzGAkgAygLMhcucGxlbmFyeS52MS5DaGF0TWVzc2FnZRInCgZjb3VudHMYCiABKAsyFy5wbGVuYXJ5LnYxLlF1ZXVlQ291bnRzEiUKCXB1Ymxpc2hlZBgLIAMoCzISLnBsZW5hcnkudjEuRmVlZFFhEi0KDGludGVyYWN0aW9ucxgMIAMoCzIXLnBsZW5hcnkudjEuSW50ZXJhY3Rpb24SLAoLbGVhZGVyYm9hcmQYDSABKAsyFy5wbGVuYXJ5LnYxLkxlYWRlcmJvYXJkImkKBkF1dGhvchIPCgd1c2VyX2lkGAEgASgJEhIKCmdpdmVuX25hbWUYAiABKAkSEwoLZmFtaWx5X25hbWUYAyABKAkSEQoJbW9kZXJhdG9yGAQgASgIEhIKCmFzX2NvbnRleHQYBSABKAgixAEKC0NoYXRNZXNzYWdlEgoKAmlkGAEgASgEEiIKBmF1dGhvchgCIAEoCzISLnBsZW5hcnkudjEuQXV0aG9yEgwKBHRleHQYAyABKAkSEAoIcmVwbHlfdG8YBCABKAQSEgoKc2VudF9hdF9tcxgFIAEoBBISCgpsaWtlX2NvdW50GAYgASgNEhUKDWNsaWVudF9tc2dfaWQYByABKAkSEwoLYmFja2NoYW5uZWwYCCABKAgSEQoJdGhyZWFkX2lkGAkgASgEIj8KC1F1ZXVlQ291bnRzEg8KB3BlbmRpbmcYASABKA0SDQoFb3duZWQYAiABKA0SEAoIcmVzb2x2ZWQYAyABKA0inwEKCFFhVGhyZWFkEgoKAmlkGAEgASgEEiQKCGF0dGVuZGVlGAIgASgLMhIucGxlbmFyeS52MS5BdXRob3ISJgoFc3RhdGUYAyABKA4yFy5wbGVuYXJ5LnYxLlRocmVhZFN0YXRlEhAKCG93bmVyX2lkGAQgASgJEicKBmNvdW50cxgFIAEoCzIXLnBsZW5hcnkudjEuUXVldWVDb3VudHMiVgoGVXBkYXRlEgoKAmlkGAEgASgEEg0KBXRpdGxlGAIgASgJEgwKBHRleHQYAyABKAkSDQoFdG9hc3QYBCABKAgSFAoMcG9zdGVkX2F0X21zGAUgASgEIlgKC0Jsb2NrZWRVc2VyEg8KB3VzZXJfaWQYASABKAkSDQoFZW1haWwYAiABKAkSEgoKYmxvY2tlZF9ieRgDIAEoCRIVCg1ibG9ja2VkX2F0X21zGAQgASgEIhIKA0FjaxILCgNzZXEYASABKAQiTwoGU2VuZE9rEhIKCm1lc3NhZ2VfaWQYASABKAQSCwoDc2VxGAIgASgEEhEKCWR1cGxpY2F0ZRgDIAEoCBIRCgl0aHJlYWRfaWQYBCABKAQiPQoGTGlrZU9rEhIKCm1lc3NhZ2VfaWQYASABKAQSEgoKbGlrZV9jb3VudBgCIAEoDRILCgNzZXEYAyABKAQiHgoEUG9uZxIWCg5zZXJ2ZXJfdGltZV9tcxgBIAEoBCKoBwoEUHVzaBISCgpjb250ZXh0X2lkGAEgASgJEg0KBWVwb2NoGAIgASgEEgsKA3NlcRgDIAEoBBIqCgdtZXNzYWdlGAogASgLMhcucGxlbmFyeS52MS5DaGF0TWVzc2FnZUgAEi0KB2RlbGV0ZWQYCyABKAsyGi5wbGVuYXJ5LnYxLk1lc3NhZ2VSZW1vdmVkSAASJwoFbGlrZXMYDCABKAsyFi5wbGVuYXJ5LnYxLkxpa2VDb3VudHNIABIpCgZwaW5uZWQYDSABKAsyFy5wbGVuYXJ5LnYxLkNoYXRNZXNzYWdlSAASKgoIdW5waW5uZWQYDiABKAsyFi5wbGVuYXJ5LnYxLk1lc3NhZ2VSZWZIABIqCgdibG9ja2VkGA8gASgLMhcucGxlbmFyeS52MS5CbG9ja2VkVXNlckgAEigKCXVuYmxvY2tlZBgQIAEoCzITLnBsZW5hcnkudjEuVXNlclJlZkgAEioKB2NvbnRleHQYESABKAsyFy5wbGVuYXJ5LnYxLkNvbnRleHRJbmZvSAASJAoGcmVzeW5jGBIgASgLMhIucGxlbmFyeS52MS5SZXN5bmNIABIkCgZ1cGRhdGUYEyABKAsyEi5wbGVuYXJ5LnYxLlVwZGF0ZUgAEiYKBnRocmVhZBgUIAEoCzIULnBsZW5hcnkudjEuUWFUaHJlYWRIABIlCgdmZWVkX3FhGBUgASgLMhIucGxlbmFyeS52MS5GZWVkUWFIABIrCgxmZWVkX3JlbW92ZWQYFiABKAsyEy5wbGVuYXJ5LnYxLkZlZWRSZWZIABIsCghzZXR0aW5ncxgXIAEoCzIYLnBsZW5hcnkudjEuVXNlclNldHRpbmdzSAASLQoLcGVlcl91cGRhdGUYGCABKAsyFi5wbGVuYXJ5LnYxLlBlZXJVcGRhdGVIABIuCgtpbnRlcmFjdGlvbhgZIAEoCzIXLnBsZW5hcnkudjEuSW50ZXJhY3Rpb25IABI5ChNpbnRlcmFjdGlvbl9yZW1vdmVkGBogASgLMhoucGxlbmFyeS52MS5JbnRlcmFjdGlvblJlZkgAEiYKB3RhbGxpZXMYGyABKAsyEy5wbGVuYXJ5LnYxLlRhbGxpZXNIABIqCglyZWFjdGlvbnMYHCABKAsyFS5wbGVuYXJ5LnYxLlJlYWN0aW9uc0gAEicKBHJhbmsYHSABKAsyFy5wbGVuYXJ5LnYxLkxlYWRlcmJvYXJkSABCBgoEYm9keSI6Cg5NZXNzYWdlUmVtb3ZlZBISCgptZXNzYWdlX2lkGAEgASgEEhQKDGJ5X21vZGVyYXRvchgCIAEoCCIgCgpNZXNzYWdlUmVmEhIKCm1lc3NhZ2VfaWQYASABKAQiGgoHVXNlclJlZhIPCgd1c2VyX2lkGAEgASgJIi4KCUxpa2VDb3VudBISCgptZXNzYWdlX2lkGAEgASgEEg0KBWNvdW50GAIgASgNIjMKCkxpa2VDb3VudHMSJQoGY291bnRzGAEgAygLMhUucGxlbmFyeS52MS5MaWtlQ291bnQiCAoGUmVzeW5jIoABCgZGZWVkUWESDwoHaXRlbV9pZBgBIAEoBBIRCgl0aHJlYWRfaWQYAiABKAQSKQoIcXVlc3Rpb24YAyABKAsyFy5wbGVuYXJ5LnYxLkNoYXRNZXNzYWdlEicKBmFuc3dlchgEIAEoCzIXLnBsZW5hcnkudjEuQ2hhdE1lc3NhZ2UiGgoHRmVlZFJlZhIPCgdpdGVtX2lkGAEgASgEIksKDFVzZXJTZXR0aW5ncxINCgV0b2FzdBgBIAEoCBIUCgxwcml2YXRlX2NoYXQYAiABKAgSFgoOc2hvd19sYXN0X25hbWUYAyABKAgiuAEKBFBlZXISDwoHdXNlcl9pZBgBIAEoCRIMCgRuYW1lGAIgASgJEiYKBnN0YXR1cxgDIAEoDjIWLnBsZW5hcnkudjEuUGVlclN0YXR1cxIOCgZ1bnJlYWQYBCABKA0SEgoKbXlfcmVhZF9pZBgFIAEoBBIUCgxwZWVyX3JlYWRfaWQYBiABKAQSLwoMbGFzdF9tZXNzYWdlGAcgASgLMhkucGxlbmFyeS52MS5EaXJlY3RNZXNzYWdlIoABCg1EaXJlY3RNZXNzYWdlEg8KB3BlZXJfaWQYASABKAkSEgoKbWVzc2FnZV9pZBgCIAEoBBIRCglzZW5kZXJfaWQYAyABKAkSDAoEdGV4dBgEIAEoCRISCgpzZW50X2F0X21zGAUgASgEEhUKDWNsaWVudF9tc2dfaWQYBiABKAkiNwoQRGlyZWN0TWVzc2FnZVJlZhIPCgdwZWVyX2lkGAEgASgJEhIKCm1lc3NhZ2VfaWQYAiABKAQihwEKClBlZXJVcGRhdGUSHgoEcGVlchgBIAEoCzIQLnBsZW5hcnkudjEuUGVlchIqCgdtZXNzYWdlGAIgASgLMhkucGxlbmFyeS52MS5EaXJlY3RNZXNzYWdlEi0KB3JlbW92ZWQYAyABKAsyHC5wbGVuYXJ5LnYxLkRpcmVjdE1lc3NhZ2VSZWYiXgoPUHJpdmF0ZVNuYXBzaG90EioKCHNldHRpbmdzGAEgASgLMhgucGxlbmFyeS52MS5Vc2VyU2V0dGluZ3MSHwoFcGVlcnMYAiADKAsyEC5wbGVuYXJ5LnYxLlBlZXIiiwEKCVByaXZhdGVPaxINCgVlcG9jaBgBIAEoBBILCgNzZXEYAiABKAQSEQoJcmVjb3ZlcmVkGAMgASgIEiAKBm1pc3NlZBgEIAMoCzIQLnBsZW5hcnkudjEuUHVzaBItCghzbmFwc2hvdBgFIAEoCzIbLnBsZW5hcnkudjEuUHJpdmF0ZVNuYXBzaG90InAKD0RpcmVjdEhpc3RvcnlPaxIrCghtZXNzYWdlcxgBIAMoCzIZLnBsZW5hcnkudjEuRGlyZWN0TWVzc2FnZRIQCghoYXNfbW9yZRgCIAEoCBIeCgRwZWVyGAMgASgLMhAucGxlbmFyeS52MS5QZWVyIk8KBlBlcnNvbhIPCgd1c2VyX2lkGAEgASgJEgwKBG5hbWUYAiABKAkSJgoGc3RhdHVzGAMgASgOMhYucGxlbmFyeS52MS5QZWVyU3RhdHVzIi4KCFBlb3BsZU9rEiIKBnBlb3BsZRgBIAMoCzISLnBsZW5hcnkudjEuUGVyc29uIoABCg9TYXZlSW50ZXJhY3Rpb24SEgoKY29udGV4dF9pZBgBIAEoCRIWCg5pbnRlcmFjdGlvbl9pZBgCIAEoBBIpCgRzcGVjGAMgASgLMhsucGxlbmFyeS52MS5JbnRlcmFjdGlvblNwZWMSFgoOY2xpZW50X3NhdmVfaWQYBCABKAki1wIKD0ludGVyYWN0aW9uU3BlYxIkCgRwb2xsGAEgASgLMhQucGxlbmFyeS52MS5Qb2xsU3BlY0gAEiQKBHF1aXoYAiABKAsyFC5wbGVuYXJ5LnYxLlF1aXpTcGVjSAASKAoGcmF0aW5nGAMgASgLMhYucGxlbmFyeS52MS5SYXRpbmdTcGVjSAASLwoKY3Jvd2Rfdm90ZRgEIAEoCzIZLnBsZW5hcnkudjEuQ3Jvd2RWb3RlU3BlY0gAEjUKDW9wZW5fcXVlc3Rpb24YBSABKAsyHC5wbGVuYXJ5LnYxLk9wZW5RdWVzdGlvblNwZWNIABIoCgZzdXJ2ZXkYBiABKAsyFi5wbGVuYXJ5LnYxLlN1cnZleVNwZWNIABI0Cgxhbm5vdW5jZW1lbnQYByABKAsyHC5wbGVuYXJ5LnYxLkFubm91bmNlbWVudFNwZWNIAEIGCgRraW5kImsKCFF1aXpTcGVjEhAKCHF1ZXN0aW9uGAEgASgJEg8KB29wdGlvbnMYAiADKAkSDwoHY29ycmVjdBgDIAMoDRIUCgxzaG93X2NvcnJlY3QYBCABKAgSFQoNc2hhcmVfcmVzdWx0cxgFIAEoCCI7ChBPcGVuUXVlc3Rpb25TcGVjEhAKCHF1ZXN0aW9uGAEgASgJEhUKDXNoYXJlX3Jlc3VsdHMYAiABKAgihAEKClN1cnZleVNwZWMSDAoEbmFtZRgBIAEoCRINCgVpbnRybxgCIAEoCRITCgtzdGFydF9sYWJlbBgDIAEoCRItCglxdWVzdGlvbnMYBCADKAsyGi5wbGVuYXJ5LnYxLlN1cnZleVF1ZXN0aW9uEhUKDXNoYXJlX3Jlc3VsdHMYBSABKAgimQEKDlN1cnZleVF1ZXN0aW9uEiwKBGtpbmQYASABKA4yHi5wbGVuYXJ5LnYxLlN1cnZleVF1ZXN0aW9uS2luZBIMCgR0ZXh0GAIgASgJEg8KB29wdGlvbnMYAyADKAkSGAoQbXVsdGlwbGVfYW5zd2VycxgEIAEoCBINCgVlbW9qaRgFIAEoCRIRCgltYW5kYXRvcnkYBiABKAgiTwoMU3VydmV5QW5zd2VyEhAKCHF1ZXN0aW9uGAEgASgNEg8KB29wdGlvbnMYAiADKA0SDgoGcmF0aW5nGAMgASgNEgwKBHRleHQYBCABKAkiRQoKUmF0aW5nU3BlYxIRCglzdGF0ZW1lbnQYASABKAkSDQoFZW1vamkYAiABKAkSFQoNc2hhcmVfcmVzdWx0cxgDIAEoCCJICg1Dcm93ZFZvdGVTcGVjEhEKCXN0YXRlbWVudBgBIAEoCRINCgVlbW9qaRgCIAEoCRIVCg1zaGFyZV9yZXN1bHRzGAMgASgIIlMKEEFubm91bmNlbWVudFNwZWMSDQoFdGl0bGUYASABKAkSDAoEdGV4dBgCIAEoCRIRCgljdGFfbGFiZWwYAyABKAkSDwoHY3RhX3VybBgEIAEoCSJeCghQb2xsU3BlYxIQCghxdWVzdGlvbhgBIAEoCRIPCgdvcHRpb25zGAIgAygJEhUKDXNoYXJlX3Jlc3VsdHMYAyABKAgSGAoQbXVsdGlwbGVfYW5zd2VycxgEIAEoCCJyChFJbnRlcmFjdGlvbkFjdGlvbhISCgpjb250ZXh0X2lkGAEgASgJEhYKDmludGVyYWN0aW9uX2lkGAIgASgEEjEKBmFjdGlvbhgDIAEoDjIhLnBsZW5hcnkudjEuSW50ZXJhY3Rpb25BY3Rpb25LaW5kIqMBCgRWb3RlEhIKCmNvbnRleHRfaWQYASABKAkSFgoOaW50ZXJhY3Rpb25faWQYAiABKAQSFgoOY2xpZW50X3ZvdGVfaWQYAyABKAkSDwoHb3B0aW9ucxgEIAMoDRIOCgZyYXRpbmcYBSABKA0SDAoEdGV4dBgGIAEoCRIoCgZzdXJ2ZXkYByADKAsyGC5wbGVuYXJ5LnYxLlN1cnZleUFuc3dlciI0Cg1JbnRlcmFjdGlvbk9rEhYKDmludGVyYWN0aW9uX2lkGAEgASgEEgsKA3NlcRgCIAEoBCJnCgdIaXN0b3J5EhIKCmNvbnRleHRfaWQYASABKAkSEQoJYmVmb3JlX2lkGAIgASgEEg0KBWxpbWl0GAMgASgNEhMKC2JhY2tjaGFubmVsGAQgASgIEhEKCXRocmVhZF9pZBgFIAEoBCJxCglIaXN0b3J5T2sSEgoKY29udGV4dF9pZBgBIAEoCRIpCghtZXNzYWdlcxgCIAMoCzIXLnBsZW5hcnkudjEuQ2hhdE1lc3NhZ2USEAoIaGFzX21vcmUYAyABKAgSEwoLbGlrZWRfYnlfbWUYBCADKAQiQAoGVm90ZU9rEhYKDmludGVyYWN0aW9uX2lkGAEgASgEEgsKA3NlcRgCIAEoBBIRCglkdXBsaWNhdGUYAyABKAgiuwIKC0ludGVyYWN0aW9uEgoKAmlkGAEgASgEEikKBHNwZWMYAiABKAsyGy5wbGVuYXJ5LnYxLkludGVyYWN0aW9uU3BlYxItCgZzdGF0dXMYAyABKA4yHS5wbGVuYXJ5LnYxLkludGVyYWN0aW9uU3RhdHVzEhUKDXJlc3VsdHNfc2hvd24YBCABKAgSFQoNcHVibGlzaGVkX3NlcRgFIAEoBBIXCg9wdWJsaXNoZWRfYXRfbXMYBiABKAQSDQoFdG9hc3QYByABKAgSIAoFdGFsbHkYCCABKAsyES5wbGVuYXJ5LnYxLlRhbGx5EiAKBG1pbmUYCSABKAsyEi5wbGVuYXJ5LnYxLk15Vm90ZRIsCgtsZWFkZXJib2FyZBgKIAEoCzIXLnBsZW5hcnkudjEuTGVhZGVyYm9hcmQiegoLTGVhZGVyYm9hcmQSKQoDdG9wGAEgAygLMhwucGxlbmFyeS52MS5MZWFkZXJib2FyZEVudHJ5EhQKDHBhcnRpY2lwYW50cxgCIAEoDRIqCgRtaW5lGAMgASgLMhwucGxlbmFyeS52MS5MZWFkZXJib2FyZEVudHJ5ImoKEExlYWRlcmJvYXJkRW50cnkSDAoEcmFuaxgBIAEoDRIPCgd1c2VyX2lkGAIgASgJEhIKCmdpdmVuX25hbWUYAyABKAkSEwoLZmFtaWx5X25hbWUYBCABKAkSDgoGcG9pbnRzGAUgASgNInEKBk15Vm90ZRIPCgdvcHRpb25zGAEgAygNEg4KBnJhdGluZxgCIAEoDRIOCgZwb2ludHMYAyABKA0SDAoEdGV4dBgEIAEoCRIoCgZzdXJ2ZXkYBSADKAsyGC5wbGVuYXJ5LnYxLlN1cnZleUFuc3dlciJSCgVSZWFjdBISCgpjb250ZXh0X2lkGAEgASgJEiYKCHJlYWN0aW9uGAIgASgOMhQucGxlbmFyeS52MS5SZWFjdGlvbhINCgVjcm93ZBgDIAEoCCJGCg1SZWFjdGlvbkNvdW50EiYKCHJlYWN0aW9uGAEgASgOMhQucGxlbmFyeS52MS5SZWFjdGlvbhINCgVjb3VudBgCIAEoDSJzCglSZWFjdGlvbnMSKQoGY291bnRzGAEgAygLMhkucGxlbmFyeS52MS5SZWFjdGlvbkNvdW50EigKBWNyb3dkGAIgAygLMhkucGxlbmFyeS52MS5SZWFjdGlvbkNvdW50EhEKCXdpbmRvd19tcxgDIAEoDSIoCg5JbnRlcmFjdGlvblJlZhIWCg5pbnRlcmFjdGlvbl9pZBgBIAEoBCL2AQoFVGFsbHkSFgoOaW50ZXJhY3Rpb25faWQYASABKAQSDgoGdm90ZXJzGAIgASgNEg4KBmNvdW50cxgDIAMoDRIPCgdhdmVyYWdlGAQgASgBEg8KB2NvcnJlY3QYBSADKA0SJAoFd29yZHMYBiADKAsyFS5wbGVuYXJ5LnYxLldvcmRDb3VudBInCgdhbnN3ZXJzGAcgAygLMhYucGxlbmFyeS52MS5PcGVuQW5zd2VyEiQKCXF1ZXN0aW9ucxgIIAMoCzIRLnBsZW5hcnkudjEuVGFsbHkSDwoHcHJlc2VudBgJIAEoDRINCgVzaGFyZRgKIAEoASIoCglXb3JkQ291bnQSDAoEd29yZBgBIAEoCRINCgVjb3VudBgCIAEoDSInCgpPcGVuQW5zd2VyEgsKA3NlcRgBIAEoBBIMCgR0ZXh0GAIgASgJIi0KB1RhbGxpZXMSIgoHdGFsbGllcxgBIAMoCzIRLnBsZW5hcnkudjEuVGFsbHkqsgEKEFRocmVhZEFjdGlvbktpbmQSIgoeVEhSRUFEX0FDVElPTl9LSU5EX1VOU1BFQ0lGSUVEEAASHgoaVEhSRUFEX0FDVElPTl9LSU5EX1JFTEVBU0UQARIeChpUSFJFQURfQUNUSU9OX0tJTkRfUkVTT0xWRRACEhwKGFRIUkVBRF9BQ1RJT05fS0lORF9DTEVBUhADEhwKGFRIUkVBRF9BQ1RJT05fS0lORF9DTEFJTRAEKssBChRDb25uZWN0aW9uQWN0aW9uS2luZBImCiJDT05ORUNUSU9OX0FDVElPTl9LSU5EX1VOU1BFQ0lGSUVEEAASIgoeQ09OTkVDVElPTl9BQ1RJT05fS0lORF9SRVFVRVNUEAESIQodQ09OTkVDVElPTl9BQ1RJT05fS0lORF9BQ0NFUFQQAhIhCh1DT05ORUNUSU9OX0FDVElPTl9LSU5EX0lHTk9SRRADEiEKHUNPTk5FQ1RJT05fQUNUSU9OX0tJTkRfUkVNT1ZFEAQqjQUKCUVycm9yQ29kZRIaChZFUlJPUl9DT0RFX1VOU1BFQ0lGSUVEEAASGgoWRVJST1JfQ09ERV9CQURfUkVRVUVTVBABEh4KGkVSUk9SX0NPREVfVU5LTk9XTl9DT01NQU5EEAISGwoXRVJST1JfQ09ERV9VTkFVVEhPUklaRUQQAxIcChhFUlJPUl9DT0RFX1RPS0VOX0VYUElSRUQQBBIYChRFUlJPUl9DT0RFX0ZPUkJJRERFThAFEhgKFEVSUk9SX0NPREVfTk9UX0ZPVU5EEAYSGQoVRVJST1JfQ09ERV9OT1RfSk9JTkVEEAcSFgoSRVJST1JfQ09ERV9CTE9DS0VEEAgSGwoXRVJST1JfQ09ERV9SQVRFX0xJTUlURUQQCRIbChdFUlJPUl9DT0RFX0lOVkFMSURfVEVYVBAKEhwKGEVSUk9SX0NPREVfTElNSVRfUkVBQ0hFRBALEiAKHEVSUk9SX0NPREVfQUxSRUFEWV9DT05ORUNURUQQDBIaChZFUlJPUl9DT0RFX1VOQVZBSUxBQkxFEA0SFwoTRVJST1JfQ09ERV9JTlRFUk5BTBAOEh4KGkVSUk9SX0NPREVfQUxSRUFEWV9DTEFJTUVEEA8SHAoYRVJST1JfQ09ERV9JTlZBTElEX1NUQVRFEBASHAoYRVJST1JfQ09ERV9OT1RfQ09OTkVDVEVEEBESJAogRVJST1JfQ09ERV9QUklWQVRFX0NIQVRfRElTQUJMRUQQEhIeChpFUlJPUl9DT0RFX09VVENPTUVfVU5LTk9XThATEhwKGEVSUk9SX0NPREVfQUxSRUFEWV9WT1RFRBAUEhcKE0VSUk9SX0NPREVfQVJDSElWRUQQFSotCgRSb2xlEhEKDVJPTEVfQVRURU5ERUUQABISCg5ST0xFX01PREVSQVRPUhABKj0KBlFhTW9kZRIZChVRQV9NT0RFX1NJTkdMRV9USFJFQUQQABIYChRRQV9NT0RFX01VTFRJX1RIUkVBRBABKnEKC1RocmVhZFN0YXRlEhgKFFRIUkVBRF9TVEFURV9QRU5ESU5HEAASFgoSVEhSRUFEX1NUQVRFX09XTkVEEAESGQoVVEhSRUFEX1NUQVRFX1JFU09MVkVEEAISFQoRVEhSRUFEX1NUQVRFX0RPTkUQAyqWAQoKUGVlclN0YXR1cxIUChBQRUVSX1NUQVRVU19OT05FEAASHAoYUEVFUl9TVEFUVVNfUkVRVUVTVF9TRU5UEAESIAocUEVFUl9TVEFUVVNfUkVRVUVTVF9SRUNFSVZFRBACEhkKFVBFRVJfU1RBVFVTX0NPTk5FQ1RFRBADEhcKE1BFRVJfU1RBVFVTX0lHTk9SRUQQBCrKAQoSU3VydmV5UXVlc3Rpb25LaW5kEiQKIFNVUlZFWV9RVUVTVElPTl9LSU5EX1VOU1BFQ0lGSUVEEAASKAokU1VSVkVZX1FVRVNUSU9OX0tJTkRfTVVMVElQTEVfQ0hPSUNFEAESJAogU1VSVkVZX1FVRVNUSU9OX0tJTkRfSUNPTl9DSE9JQ0UQAhIfChtTVVJWRVlfUVVFU1RJT05fS0lORF9SQVRJTkcQAxIdChlTVVJWRVlfUVVFU1RJT05fS0lORF9PUEVOEAQqpQIKFUludGVyYWN0aW9uQWN0aW9uS2luZBInCiNJTlRFUkFDVElPTl9BQ1RJT05fS0lORF9VTlNQRUNJRklFRBAAEiMKH0lOVEVSQUNUSU9OX0FDVElPTl9LSU5EX1BVQkxJU0gQARIoCiRJTlRFUkFDVElPTl9BQ1RJT05fS0lORF9TSE9XX1JFU1VMVFMQAhIoCiRJTlRFUkFDVElPTl9BQ1RJT05fS0lORF9ISURFX1JFU1VMVFMQAxIfChtJTlRFUkFDVElPTl9BQ1RJT05fS0lORF9FTkQQBBIlCiFJTlRFUkFDVElPTl9BQ1RJT05fS0lORF9VTlBVQkxJU0gQBRIiCh5JTlRFUkFDVElPTl9BQ1RJT05fS0lORF9ERUxFVEUQBiqVAQoRSW50ZXJhY3Rpb25TdGF0dXMSIgoeSU5URVJBQ1RJT05fU1RBVFVTX1VOU1BFQ0lGSUVEEAASHAoYSU5URVJBQ1RJT05fU1RBVFVTX0RSQUZUEAESIAocSU5URVJBQ1RJT05fU1RBVFVTX1BVQkxJU0hFRBACEhwKGElOVEVSQUNUSU9OX1NUQVRVU19FTkRFRBADKokBCghSZWFjdGlvbhIYChRSRUFDVElPTl9VTlNQRUNJRklFRBAAEhEKDVJFQUNUSU9OX0NMQVAQARISCg5SRUFDVElPTl9IRUFSVBACEhIKDlJFQUNUSU9OX0xBVUdIEAMSFgoSUkVBQ1RJT05fVEhVTUJTX1VQEAQSEAoMUkVBQ1RJT05fV09XEAViBnByb3RvMw");
var ClientFrameSchema = /* @__PURE__ */ messageDesc(file_plenary_v1_client, 0);
var ServerFrameSchema = /* @__PURE__ */ messageDesc(file_plenary_v1_client, 28);
var SnapshotSchema = /* @__PURE__ */ messageDesc(file_plenary_v1_client, 35);
var PrivateSnapshotSchema = /* @__PURE__ */ messageDesc(file_plenary_v1_client, 60);
var ErrorCode = /* @__PURE__ */ ((ErrorCode2) => {
  ErrorCode2[ErrorCode2["UNSPECIFIED"] = 0] = "UNSPECIFIED";
  ErrorCode2[ErrorCode2["BAD_REQUEST"] = 1] = "BAD_REQUEST";
  ErrorCode2[ErrorCode2["UNKNOWN_COMMAND"] = 2] = "UNKNOWN_COMMAND";
  ErrorCode2[ErrorCode2["UNAUTHORIZED"] = 3] = "UNAUTHORIZED";
  ErrorCode2[ErrorCode2["TOKEN_EXPIRED"] = 4] = "TOKEN_EXPIRED";
  ErrorCode2[ErrorCode2["FORBIDDEN"] = 5] = "FORBIDDEN";
  ErrorCode2[ErrorCode2["NOT_FOUND"] = 6] = "NOT_FOUND";
  ErrorCode2[ErrorCode2["NOT_JOINED"] = 7] = "NOT_JOINED";
  ErrorCode2[ErrorCode2["BLOCKED"] = 8] = "BLOCKED";
  ErrorCode2[ErrorCode2["RATE_LIMITED"] = 9] = "RATE_LIMITED";
  ErrorCode2[ErrorCode2["INVALID_TEXT"] = 10] = "INVALID_TEXT";
  ErrorCode2[ErrorCode2["LIMIT_REACHED"] = 11] = "LIMIT_REACHED";
  ErrorCode2[ErrorCode2["ALREADY_CONNECTED"] = 12] = "ALREADY_CONNECTED";
  ErrorCode2[ErrorCode2["UNAVAILABLE"] = 13] = "UNAVAILABLE";
  ErrorCode2[ErrorCode2["INTERNAL"] = 14] = "INTERNAL";
  ErrorCode2[ErrorCode2["ALREADY_CLAIMED"] = 15] = "ALREADY_CLAIMED";
  ErrorCode2[ErrorCode2["INVALID_STATE"] = 16] = "INVALID_STATE";
  ErrorCode2[ErrorCode2["NOT_CONNECTED"] = 17] = "NOT_CONNECTED";
  ErrorCode2[ErrorCode2["PRIVATE_CHAT_DISABLED"] = 18] = "PRIVATE_CHAT_DISABLED";
  ErrorCode2[ErrorCode2["OUTCOME_UNKNOWN"] = 19] = "OUTCOME_UNKNOWN";
  ErrorCode2[ErrorCode2["ALREADY_VOTED"] = 20] = "ALREADY_VOTED";
  ErrorCode2[ErrorCode2["ARCHIVED"] = 21] = "ARCHIVED";
  return ErrorCode2;
})(ErrorCode || {});
var ThreadState = /* @__PURE__ */ ((ThreadState2) => {
  ThreadState2[ThreadState2["PENDING"] = 0] = "PENDING";
  ThreadState2[ThreadState2["OWNED"] = 1] = "OWNED";
  ThreadState2[ThreadState2["RESOLVED"] = 2] = "RESOLVED";
  ThreadState2[ThreadState2["DONE"] = 3] = "DONE";
  return ThreadState2;
})(ThreadState || {});
var InteractionStatus = /* @__PURE__ */ ((InteractionStatus2) => {
  InteractionStatus2[InteractionStatus2["UNSPECIFIED"] = 0] = "UNSPECIFIED";
  InteractionStatus2[InteractionStatus2["DRAFT"] = 1] = "DRAFT";
  InteractionStatus2[InteractionStatus2["PUBLISHED"] = 2] = "PUBLISHED";
  InteractionStatus2[InteractionStatus2["ENDED"] = 3] = "ENDED";
  return InteractionStatus2;
})(InteractionStatus || {});
var Reaction = /* @__PURE__ */ ((Reaction2) => {
  Reaction2[Reaction2["UNSPECIFIED"] = 0] = "UNSPECIFIED";
  Reaction2[Reaction2["CLAP"] = 1] = "CLAP";
  Reaction2[Reaction2["HEART"] = 2] = "HEART";
  Reaction2[Reaction2["LAUGH"] = 3] = "LAUGH";
  Reaction2[Reaction2["THUMBS_UP"] = 4] = "THUMBS_UP";
  Reaction2[Reaction2["WOW"] = 5] = "WOW";
  return Reaction2;
})(Reaction || {});

// ../js/src/backoff.ts
function backoffDelay(attempt2, { minDelayMs, maxDelayMs }, random = Math.random) {
  const cap = Math.min(maxDelayMs, minDelayMs * 2 ** Math.min(attempt2, 30));
  return Math.floor(random() * cap);
}

// ../js/src/close.ts
function closeVerdict(code) {
  switch (code) {
    // Protocol error, policy refusal, oversized frame: a client bug, not a network one.
    case 4e3:
    case 4003:
    case 4009:
      return { reconnect: false, newToken: false, minAttempt: 0 };
    case 4001:
      return { reconnect: true, newToken: true, minAttempt: 0 };
    // Too many connections of this user, node full, rate-limit flood: back off.
    case 4004:
    case 4013:
    case 4029:
      return { reconnect: true, newToken: false, minAttempt: 4 };
    // 1006 (network), 1012 (restart), 4002, 4008 (slow consumer), 4010 (idle), others:
    // reconnect with jittered back-off and recover with `since`.
    default:
      return { reconnect: true, newToken: false, minAttempt: 0 };
  }
}

// ../js/src/codec.ts
function encodeClientFrame(subprotocol, frame) {
  if (subprotocol === "plenary.v1.proto") {
    return toBinary(ClientFrameSchema, frame);
  }
  return JSON.stringify(toJson(ClientFrameSchema, frame, { useProtoFieldName: true }));
}
function decodeServerFrame(subprotocol, data) {
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
  return fromJson(ServerFrameSchema, JSON.parse(data), { ignoreUnknownFields: true });
}

// ../js/src/commands.ts
var RESULT_OF = {
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
  refresh: "ack"
};

// ../js/src/emitter.ts
var TypedEmitter = class {
  listeners = /* @__PURE__ */ new Map();
  /** Calls `listener` on every `event` until the returned function is called. */
  on(event, listener) {
    let set = this.listeners.get(event);
    if (!set) {
      set = /* @__PURE__ */ new Set();
      this.listeners.set(event, set);
    }
    set.add(listener);
    return () => this.off(event, listener);
  }
  /** Calls `listener` on the next `event` only. */
  once(event, listener) {
    const off = this.on(event, ((...args) => {
      off();
      listener(...args);
    }));
    return off;
  }
  off(event, listener) {
    this.listeners.get(event)?.delete(listener);
  }
  /**
   * A listener that throws does not stop the others or the client: its error is thrown
   * again from a fresh task, where the page (or Node) reports it as uncaught.
   */
  emit(event, ...args) {
    const set = this.listeners.get(event);
    if (!set) return;
    for (const listener of [...set]) {
      try {
        listener(...args);
      } catch (error) {
        setTimeout(() => {
          throw error;
        });
      }
    }
  }
};

// ../js/src/errors.ts
var PlenaryError = class extends Error {
  name = "PlenaryError";
  code;
  retryAfterMs;
  local;
  constructor(code, message, retryAfterMs = 0, local2 = false) {
    super(message);
    this.code = code;
    this.retryAfterMs = retryAfterMs;
    this.local = local2;
  }
  /** The code's name, e.g. `"ERROR_CODE_FORBIDDEN"`. */
  get codeName() {
    return `ERROR_CODE_${ErrorCode[this.code]}`;
  }
  toString() {
    return `PlenaryError(${this.codeName}): ${this.message}`;
  }
};

// ../js/src/token.ts
function tokenTimes(token) {
  const payload = token.split(".")[1];
  if (!payload) return void 0;
  try {
    const base64 = payload.replace(/-/g, "+").replace(/_/g, "/");
    const padded = base64 + "=".repeat((4 - base64.length % 4) % 4);
    const bytes = Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
    const claims = JSON.parse(new TextDecoder().decode(bytes));
    if (typeof claims.exp !== "number") return void 0;
    return {
      expiresAtMs: claims.exp * 1e3,
      issuedAtMs: typeof claims.iat === "number" ? claims.iat * 1e3 : void 0
    };
  } catch {
    return void 0;
  }
}

// ../js/src/client.ts
var PRIVATE_STREAM = "";
var DEFAULT_SUBPROTOCOL = "plenary.v1.proto";
var PlenaryClient = class extends TypedEmitter {
  options;
  WebSocketImpl;
  currentState = "closed";
  socket;
  nextId = 1n;
  pending = /* @__PURE__ */ new Map();
  queue = [];
  streams = /* @__PURE__ */ new Map();
  /** Rejoins of the current connection not answered yet: commands wait for them. */
  rejoinsInFlight = 0;
  attempt = 0;
  reconnectTimer;
  connectTimer;
  refreshTimer;
  token;
  /** Server clock minus local clock, from the last `connect` reply. */
  clockOffsetMs = 0;
  sessionInfo;
  connectWaiters = [];
  constructor(options) {
    super();
    this.options = {
      url: options.url,
      getToken: options.getToken,
      subprotocol: options.subprotocol ?? DEFAULT_SUBPROTOCOL,
      minReconnectDelayMs: options.minReconnectDelayMs ?? 500,
      maxReconnectDelayMs: options.maxReconnectDelayMs ?? 3e4,
      commandTimeoutMs: options.commandTimeoutMs ?? 2e4,
      connectTimeoutMs: options.connectTimeoutMs ?? 1e4,
      refreshMarginMs: options.refreshMarginMs,
      autoRefresh: options.autoRefresh ?? true,
      trace: options.trace
    };
    const impl = options.WebSocket ?? globalThis.WebSocket;
    if (!impl) {
      throw new TypeError("no WebSocket implementation: pass options.WebSocket");
    }
    this.WebSocketImpl = impl;
  }
  get state() {
    return this.currentState;
  }
  /** The last `connect` reply (user id, limits, server time), while connected. */
  get session() {
    return this.currentState === "connected" ? this.sessionInfo : void 0;
  }
  get subprotocol() {
    return this.options.subprotocol;
  }
  /** The contexts this client follows (joined, or being rejoined). */
  get joinedContexts() {
    return [...this.streams.keys()].filter((id) => id !== PRIVATE_STREAM);
  }
  /** The last applied position of a context (or "" for the private stream). */
  position(stream) {
    const p = this.streams.get(stream)?.position;
    return p && { ...p };
  }
  /**
   * Starts connecting (and reconnecting until `close()`); resolves with the first
   * `connect` reply. Rejects if the client stops first.
   */
  connect() {
    const promise = new Promise((resolve, reject) => {
      if (this.currentState === "connected" && this.sessionInfo) {
        resolve(this.sessionInfo);
      } else {
        this.connectWaiters.push({ resolve, reject });
      }
    });
    if (this.currentState === "closed") {
      this.attempt = 0;
      void this.open();
    }
    return promise;
  }
  /** Stops for good: no reconnect; waiting and unanswered commands are rejected. */
  close() {
    this.stop(1e3, "closed by the client");
  }
  // ------------------------------------------------------------------ commands
  /** Sends any command; resolves with its typed reply result, rejects with `PlenaryError`. */
  command(kind, body) {
    return new Promise((resolve, reject) => {
      if (this.currentState === "closed") {
        reject(local(13 /* UNAVAILABLE */, "the client is closed: call connect()"));
        return;
      }
      let sent = false;
      let settled = false;
      const timer = setTimeout(() => {
        if (settled) return;
        settled = true;
        this.queue = this.queue.filter((q) => q.pending !== pending);
        reject(
          sent ? local(19 /* OUTCOME_UNKNOWN */, `no reply to ${kind} within ${this.options.commandTimeoutMs} ms`) : local(13 /* UNAVAILABLE */, `not connected within ${this.options.commandTimeoutMs} ms`)
        );
      }, this.options.commandTimeoutMs);
      const pending = {
        kind,
        stream: streamOf(kind, body),
        onReply: (reply) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          try {
            resolve(this.resultOf(kind, reply));
          } catch (error) {
            reject(error);
          }
        },
        onLost: (error) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          reject(error);
        }
      };
      const markSent = () => {
        sent = true;
      };
      if (this.ready()) {
        this.prepare(pending);
        this.transmit(kind, body, pending);
        markSent();
      } else {
        this.queue.push({ kind, body, pending, markSent });
      }
    });
  }
  /** Joins a context: resolves with its snapshot join. The client rejoins it on reconnect. */
  join(contextId) {
    return this.command("join", { contextId });
  }
  /** Leaves a context: its pushes stop and it is not rejoined. */
  leave(contextId) {
    return this.command("leave", { contextId });
  }
  /** Opens the private stream (private chat); it is reopened on reconnect. */
  openPrivate() {
    return this.command("privateOpen", {});
  }
  /** Closes the private stream. */
  closePrivate() {
    return this.command("leave", { contextId: PRIVATE_STREAM });
  }
  /** Posts a message; a `clientMsgId` is made up when missing, so a retry is safe. */
  send(body) {
    return this.command("send", withId(body, "clientMsgId"));
  }
  like(body) {
    return this.command("like", body);
  }
  unlike(body) {
    return this.command("unlike", body);
  }
  delete(body) {
    return this.command("delete", body);
  }
  pin(body) {
    return this.command("pin", body);
  }
  unpin(body) {
    return this.command("unpin", body);
  }
  block(body) {
    return this.command("block", body);
  }
  unblock(body) {
    return this.command("unblock", body);
  }
  ping() {
    return this.command("ping", {});
  }
  postUpdate(body) {
    return this.command("postUpdate", body);
  }
  /** Asks a Q&A question; a `clientMsgId` is made up when missing. */
  ask(body) {
    return this.command("ask", withId(body, "clientMsgId"));
  }
  threadAction(body) {
    return this.command("threadAction", body);
  }
  publishQa(body) {
    return this.command("publishQa", body);
  }
  unpublish(body) {
    return this.command("unpublish", body);
  }
  connection(body) {
    return this.command("connection", body);
  }
  /** Sends a private message; a `clientMsgId` is made up when missing. */
  dmSend(body) {
    return this.command("dmSend", withId(body, "clientMsgId"));
  }
  dmDelete(body) {
    return this.command("dmDelete", body);
  }
  dmRead(body) {
    return this.command("dmRead", body);
  }
  dmHistory(body) {
    return this.command("dmHistory", body);
  }
  settings(body) {
    return this.command("settings", body);
  }
  people(body) {
    return this.command("people", body);
  }
  saveInteraction(body) {
    return this.command("saveInteraction", body);
  }
  interactionAction(body) {
    return this.command("interactionAction", body);
  }
  /** Votes; a `clientVoteId` is made up when missing, so a retry is safe. */
  vote(body) {
    return this.command("vote", withId(body, "clientVoteId"));
  }
  react(body) {
    return this.command("react", body);
  }
  history(body) {
    return this.command("history", body);
  }
  /**
   * Extends this connection's expiry with a fresh token of the same user. The client
   * does this by itself ahead of `exp`; call it when you know better.
   */
  async refresh(token) {
    const fresh = token ?? await this.options.getToken();
    const ack = await this.command("refresh", { token: fresh });
    this.token = fresh;
    this.scheduleRefresh();
    return ack;
  }
  // ------------------------------------------------------------------ connection
  setState(next) {
    const previous = this.currentState;
    if (previous === next) return;
    this.currentState = next;
    this.emit("state", next, previous);
  }
  /** Commands go out at once only when connected and every rejoin is answered. */
  ready() {
    return this.currentState === "connected" && this.socket !== void 0 && this.rejoinsInFlight === 0;
  }
  async open() {
    this.setState("connecting");
    let token;
    try {
      token = await this.tokenForConnect();
    } catch (error) {
      this.emit("error", asError(error, "getToken failed"));
      if (this.currentState === "connecting") this.reconnectLater(1006, "getToken failed", 0);
      return;
    }
    if (this.currentState !== "connecting") return;
    let socket;
    try {
      socket = new this.WebSocketImpl(this.options.url, [this.options.subprotocol]);
    } catch (error) {
      this.emit("error", asError(error, "WebSocket could not be created"));
      this.reconnectLater(1006, "WebSocket could not be created", 0);
      return;
    }
    socket.binaryType = "arraybuffer";
    this.socket = socket;
    this.connectTimer = setTimeout(
      () => this.dropSocket(socket, 1006, "connect timed out"),
      this.options.connectTimeoutMs
    );
    socket.onopen = () => {
      this.transmit("connect", { token }, {
        kind: "connect",
        onReply: (reply) => this.onConnectReply(socket, token, reply),
        onLost: () => {
        }
      });
    };
    socket.onmessage = (event) => this.onData(socket, event.data);
    socket.onclose = (event) => this.onSocketClosed(socket, event.code, event.reason);
    socket.onerror = () => this.dropSocket(socket, 1006, "connection failed");
  }
  async tokenForConnect() {
    if (this.token) {
      const times = tokenTimes(this.token);
      const margin = this.refreshMargin(times);
      if (!times || times.expiresAtMs - margin > Date.now() + this.clockOffsetMs) {
        return this.token;
      }
    }
    this.token = await this.options.getToken();
    return this.token;
  }
  onConnectReply(socket, token, reply) {
    if (socket !== this.socket) return;
    clearTimeout(this.connectTimer);
    if (reply.result.case !== "connect") {
      if (reply.result.case === "error") {
        this.emit("error", fromReplyError(reply.result.value));
      }
      return;
    }
    const session = reply.result.value;
    this.sessionInfo = session;
    this.clockOffsetMs = Number(session.serverTimeMs) - Date.now();
    this.attempt = 0;
    this.token = token;
    this.setState("connected");
    this.emit("connected", session);
    for (const waiter of this.connectWaiters.splice(0)) waiter.resolve(session);
    this.scheduleRefresh();
    this.rejoinsInFlight = 0;
    this.rejoinAll();
    this.flushQueue();
  }
  /** After a reconnect: every stream rejoins from its position (PROTOCOL §5). */
  rejoinAll() {
    for (const stream of this.streams.values()) {
      this.rejoin(stream, true);
    }
  }
  /**
   * Sends `join` (or `private_open`) with `since` for a stream and holds its pushes until
   * the answer. `blocking`: commands wait until it is answered (after a reconnect, a
   * command for the context would otherwise get NOT_JOINED).
   */
  rejoin(stream, blocking) {
    stream.joining = true;
    stream.held = [];
    if (blocking) this.rejoinsInFlight += 1;
    const since = stream.position && { epoch: stream.position.epoch, seq: stream.position.seq };
    const done = () => {
      if (!blocking) return;
      blocking = false;
      this.rejoinsInFlight -= 1;
      this.flushQueue();
    };
    const pending = {
      kind: stream.id === PRIVATE_STREAM ? "privateOpen" : "join",
      onReply: (reply) => {
        done();
        if (this.streams.get(stream.id) !== stream) return;
        if (reply.result.case === "join" || reply.result.case === "privateOpen") {
          this.applyJoin(stream.id, reply.result.value, true);
          return;
        }
        const error = reply.result.case === "error" ? fromReplyError(reply.result.value) : local(14 /* INTERNAL */, `unexpected reply ${reply.result.case ?? "(none)"} to a rejoin`);
        if (isRetryable(error.code)) {
          setTimeout(() => {
            if (this.streams.get(stream.id) === stream && this.currentState === "connected") {
              this.rejoin(stream, false);
            }
          }, Math.max(error.retryAfterMs, 100));
          return;
        }
        this.streams.delete(stream.id);
        this.emit("lost", stream.id, error);
      },
      // The connection dropped: the next one rejoins it.
      onLost: () => done()
    };
    if (stream.id === PRIVATE_STREAM) {
      this.transmit("privateOpen", { since }, pending);
    } else {
      this.transmit("join", { contextId: stream.id, since }, pending);
    }
  }
  flushQueue() {
    while (this.ready() && this.queue.length > 0) {
      const item = this.queue.shift();
      this.prepare(item.pending);
      this.transmit(item.kind, item.body, item.pending);
      item.markSent();
    }
  }
  /** Before an app's `join`/`private_open` goes out: hold the stream's pushes until its answer. */
  prepare(pending) {
    if (pending.kind !== "join" && pending.kind !== "privateOpen") return;
    const id = pending.stream ?? PRIVATE_STREAM;
    let stream = this.streams.get(id);
    if (!stream) {
      stream = { id, position: void 0, joining: true, held: [] };
      this.streams.set(id, stream);
    } else {
      stream.joining = true;
      stream.held = [];
    }
  }
  transmit(kind, body, pending) {
    const socket = this.socket;
    const id = this.nextId++;
    const frame = create(ClientFrameSchema, {
      id,
      command: { case: kind, value: body }
    });
    this.pending.set(id, pending);
    this.options.trace?.("send", frame);
    try {
      socket?.send(encodeClientFrame(this.options.subprotocol, frame));
    } catch (error) {
      this.pending.delete(id);
      pending.onLost(local(19 /* OUTCOME_UNKNOWN */, `sending failed: ${asError(error, "").message}`));
    }
  }
  onData(socket, data) {
    if (socket !== this.socket) return;
    let frame;
    try {
      frame = decodeServerFrame(this.options.subprotocol, data);
    } catch (error) {
      this.emit("error", asError(error, "undecodable server frame"));
      return;
    }
    this.options.trace?.("receive", frame);
    if (frame.frame.case === "reply") {
      this.onReply(frame.frame.value);
    } else if (frame.frame.case === "push") {
      this.onPush(frame.frame.value);
    }
  }
  onReply(reply) {
    let id = reply.id;
    if (id === 0n) {
      const oldest = this.pending.keys().next();
      if (oldest.done) return;
      id = oldest.value;
    }
    const pending = this.pending.get(id);
    if (!pending) return;
    this.pending.delete(id);
    if (pending.stream !== void 0) this.afterStreamReply(pending.kind, pending.stream, reply);
    pending.onReply(reply);
  }
  /**
   * Keeps the followed streams in step with the app's own join, private_open and leave
   * (before the command's promise settles, so `snapshot` comes first).
   */
  afterStreamReply(kind, id, reply) {
    const result2 = reply.result;
    if (kind === "leave") {
      if (result2.case === "ack" || result2.case === "error" && result2.value.code === 7 /* NOT_JOINED */) {
        this.streams.delete(id);
      }
      return;
    }
    if (result2.case === "join" || result2.case === "privateOpen") {
      this.applyJoin(id, result2.value, false);
    } else {
      this.streams.delete(id);
    }
  }
  resultOf(kind, reply) {
    const result2 = reply.result;
    if (result2.case === "error") throw fromReplyError(result2.value);
    if (result2.case !== RESULT_OF[kind]) {
      throw local(14 /* INTERNAL */, `unexpected reply ${result2.case ?? "(none)"} to ${kind}`);
    }
    return result2.value;
  }
  // ------------------------------------------------------------------ pushes
  onPush(push) {
    const stream = this.streams.get(push.contextId);
    if (!stream) return;
    if (stream.joining) {
      stream.held.push(push);
      return;
    }
    this.apply(stream, push);
  }
  /** Applies one push of a stream: once, in order, never moving back (PROTOCOL §4, §5). */
  apply(stream, push) {
    if (push.seq > 0n) {
      const at = stream.position;
      if (at && at.epoch === push.epoch && push.seq <= at.seq) return;
      stream.position = { epoch: push.epoch, seq: push.seq };
    }
    this.deliver(stream, push);
  }
  /** Hands one push to the app (its position already settled). */
  deliver(stream, push) {
    this.emit("push", push);
    const body = push.body;
    if (body.case) {
      this.emit(body.case, body.value, push);
    }
    if (body.case === "resync" && !stream.joining) {
      this.rejoin(stream, false);
    }
  }
  /** A join or private_open answered: missed pushes or the snapshot, then held pushes. */
  applyJoin(id, ok, rejoin) {
    let stream = this.streams.get(id);
    if (!stream) {
      stream = { id, position: void 0, joining: true, held: [] };
      this.streams.set(id, stream);
    }
    if (ok.recovered) {
      const from = stream.position;
      for (const push of ok.missed) {
        const had = push.seq > 0n && from && from.epoch === push.epoch && push.seq <= from.seq;
        if (!had) this.deliver(stream, push);
      }
    }
    stream.position = { epoch: ok.epoch, seq: ok.seq };
    stream.joining = false;
    if (!ok.recovered) {
      if (ok.$typeName === "plenary.v1.JoinOk") {
        this.emit("snapshot", id, ok.snapshot ?? create(SnapshotSchema), ok);
      } else {
        this.emit("privateSnapshot", ok.snapshot ?? create(PrivateSnapshotSchema), ok);
      }
    } else if (rejoin) {
      this.emit("recovered", id, ok.missed.length);
    }
    const held = stream.held;
    stream.held = [];
    for (const push of held) this.apply(stream, push);
  }
  // ------------------------------------------------------------------ closing
  /**
   * Gives up on a socket. Its handlers go first: closing a socket that is still
   * connecting fires `error` again, synchronously, in Node's WebSocket.
   */
  dropSocket(socket, code, reason) {
    if (socket !== this.socket) return;
    this.onSocketClosed(socket, code, reason);
    try {
      socket.close(1e3, reason.slice(0, 120));
    } catch {
    }
  }
  onSocketClosed(socket, code, reason) {
    if (socket !== this.socket) return;
    this.socket = void 0;
    socket.onopen = socket.onmessage = socket.onclose = socket.onerror = null;
    clearTimeout(this.connectTimer);
    clearTimeout(this.refreshTimer);
    this.failSent();
    if (this.currentState === "closed") return;
    const verdict = closeVerdict(code);
    if (!verdict.reconnect) {
      this.stop(code, reason || `closed with ${code}`);
      return;
    }
    if (verdict.newToken) this.token = void 0;
    this.attempt = Math.max(this.attempt, verdict.minAttempt);
    this.reconnectLater(code, reason, this.attempt);
  }
  reconnectLater(code, reason, attempt2) {
    const delayMs = backoffDelay(attempt2, {
      minDelayMs: this.options.minReconnectDelayMs,
      maxDelayMs: this.options.maxReconnectDelayMs
    });
    this.attempt = attempt2 + 1;
    this.setState("disconnected");
    this.emit("disconnected", { code, reason, willReconnect: true, delayMs });
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => {
      if (this.currentState === "disconnected") void this.open();
    }, delayMs);
  }
  /** Commands sent on a dropped connection may or may not have taken effect. */
  failSent() {
    const lost = [...this.pending.values()];
    this.pending.clear();
    for (const stream of [...this.streams.values()]) {
      stream.joining = false;
      stream.held = [];
      if (!stream.position) this.streams.delete(stream.id);
    }
    for (const pending of lost) {
      pending.onLost(local(19 /* OUTCOME_UNKNOWN */, `the connection dropped before the reply to ${pending.kind}`));
    }
  }
  stop(code, reason) {
    const wasClosed = this.currentState === "closed";
    clearTimeout(this.reconnectTimer);
    clearTimeout(this.connectTimer);
    clearTimeout(this.refreshTimer);
    const socket = this.socket;
    this.socket = void 0;
    this.setState("closed");
    if (socket) {
      socket.onopen = socket.onmessage = socket.onclose = socket.onerror = null;
      try {
        socket.close(1e3, "client closed");
      } catch {
      }
    }
    this.failSent();
    this.streams.clear();
    const queued = this.queue.splice(0);
    for (const item of queued) item.pending.onLost(local(13 /* UNAVAILABLE */, `the client stopped: ${reason}`));
    const error = local(13 /* UNAVAILABLE */, `the client stopped: ${reason} (${code})`);
    for (const waiter of this.connectWaiters.splice(0)) waiter.reject(error);
    if (!wasClosed) this.emit("disconnected", { code, reason, willReconnect: false, delayMs: 0 });
  }
  // ------------------------------------------------------------------ token refresh
  refreshMargin(times) {
    if (this.options.refreshMarginMs !== void 0) return this.options.refreshMarginMs;
    if (!times) return 0;
    const issued = times.issuedAtMs ?? Date.now() + this.clockOffsetMs;
    return Math.min(3e4, Math.max(0, (times.expiresAtMs - issued) * 0.1));
  }
  /** Plans the next `refresh` ahead of the current token's `exp` (in server time). */
  scheduleRefresh() {
    clearTimeout(this.refreshTimer);
    const times = this.token ? tokenTimes(this.token) : void 0;
    if (!times || !this.options.autoRefresh) return;
    const serverNow = Date.now() + this.clockOffsetMs;
    const delay = Math.max(0, times.expiresAtMs - this.refreshMargin(times) - serverNow);
    this.refreshTimer = setTimeout(() => void this.refreshNow(), Math.min(delay, 2 ** 31 - 1));
  }
  async refreshNow() {
    if (this.currentState !== "connected") return;
    let fresh;
    try {
      fresh = await this.options.getToken();
    } catch (error) {
      this.emit("error", asError(error, "getToken failed"));
      return;
    }
    this.token = fresh;
    try {
      await this.command("refresh", { token: fresh });
      this.scheduleRefresh();
    } catch (error) {
      this.emit("error", asError(error, "refresh failed"));
    }
  }
};
function streamOf(kind, body) {
  if (kind === "privateOpen") return PRIVATE_STREAM;
  if (kind === "join" || kind === "leave") return body.contextId ?? "";
  return void 0;
}
function local(code, message) {
  return new PlenaryError(code, message, 0, true);
}
function fromReplyError(error) {
  return new PlenaryError(error.code, error.message, Number(error.retryAfterMs));
}
function isRetryable(code) {
  return code === 13 /* UNAVAILABLE */ || code === 9 /* RATE_LIMITED */ || code === 19 /* OUTCOME_UNKNOWN */;
}
function asError(error, context) {
  if (error instanceof Error) return error;
  return new Error(`${context}: ${String(error)}`);
}
function withId(body, field) {
  const current = body[field];
  if (typeof current === "string" && current !== "") return body;
  return { ...body, [field]: randomId() };
}
function randomId() {
  const c = globalThis.crypto;
  if (c?.randomUUID) return c.randomUUID();
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 12)}`;
}

// src/state.ts
function byId(key) {
  return (a, b) => key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0;
}
var ContextState = class {
  constructor(id) {
    this.id = id;
  }
  id;
  name = "";
  qaMulti = false;
  role = 0 /* ATTENDEE */;
  chat = /* @__PURE__ */ new Map();
  backchannel = /* @__PURE__ */ new Map();
  threadMessages = /* @__PURE__ */ new Map();
  threads = /* @__PURE__ */ new Map();
  counts = { pending: 0, owned: 0, resolved: 0 };
  pinned = [];
  pinnedMessages = /* @__PURE__ */ new Map();
  liked = /* @__PURE__ */ new Set();
  blocked = false;
  blockedUsers = /* @__PURE__ */ new Map();
  updates = /* @__PURE__ */ new Map();
  published = /* @__PURE__ */ new Map();
  interactions = /* @__PURE__ */ new Map();
  leaderboard;
  myRank;
  get isModerator() {
    return this.role === 1 /* MODERATOR */;
  }
  /** The join's settings and role (a snapshot or a recovery alike). */
  applyJoin(ok) {
    if (ok.context) {
      this.name = ok.context.name;
      this.qaMulti = ok.context.qaMode === 1;
    }
    this.role = ok.role;
  }
  /** A snapshot: everything held for the context is replaced. */
  applySnapshot(s) {
    this.chat = new Map(s.messages.map((m) => [m.id, m]));
    this.backchannel = new Map(s.backchannel.map((m) => [m.id, m]));
    this.threadMessages = new Map(s.threadMessages.map((m) => [m.id, m]));
    this.threads = new Map(s.threads.map((t) => [t.id, t]));
    this.counts = s.counts ? { ...s.counts } : { pending: 0, owned: 0, resolved: 0 };
    this.pinned = s.pinned.map((m) => m.id);
    this.pinnedMessages = new Map(s.pinned.map((m) => [m.id, m]));
    this.liked = new Set(s.likedByMe);
    this.blocked = s.blocked;
    this.blockedUsers = new Map(s.blockedUsers.map((b) => [b.userId, b]));
    this.updates = new Map(s.updates.map((u) => [u.id, u]));
    this.published = new Map(s.published.map((f) => [f.itemId, f]));
    this.interactions = new Map(s.interactions.map((i) => [i.id, i]));
    this.leaderboard = s.leaderboard;
    this.myRank = s.leaderboard?.mine;
  }
  /** The map a message lives in, by where it was posted. */
  placeOf(m) {
    if (m.threadId) return this.threadMessages;
    if (m.backchannel) return this.backchannel;
    return this.chat;
  }
  find(id) {
    return this.chat.get(id) ?? this.backchannel.get(id) ?? this.threadMessages.get(id) ?? this.pinnedMessages.get(id);
  }
  /** A like count as the viewer's own like or unlike answered it. */
  setLikes(id, count) {
    for (const place of [this.chat, this.backchannel, this.threadMessages, this.pinnedMessages]) {
      const m = place.get(id);
      if (m) place.set(id, { ...m, likeCount: count });
    }
  }
  applyPush(push) {
    const body = push.body;
    switch (body.case) {
      case "message": {
        const m = body.value;
        const place = this.placeOf(m);
        const had = place.get(m.id);
        place.set(m.id, had ? { ...m, likeCount: had.likeCount } : m);
        break;
      }
      case "deleted": {
        const id = body.value.messageId;
        this.chat.delete(id);
        this.backchannel.delete(id);
        this.threadMessages.delete(id);
        this.pinned = this.pinned.filter((x) => x !== id);
        this.pinnedMessages.delete(id);
        for (const [item, f] of this.published) {
          if (f.question?.id === id || f.answer?.id === id) this.published.delete(item);
        }
        break;
      }
      case "likes":
        for (const { messageId, count } of body.value.counts) this.setLikes(messageId, count);
        break;
      case "pinned": {
        const m = body.value;
        this.pinnedMessages.set(m.id, m);
        if (!this.pinned.includes(m.id)) this.pinned.push(m.id);
        break;
      }
      case "unpinned":
        this.pinned = this.pinned.filter((x) => x !== body.value.messageId);
        this.pinnedMessages.delete(body.value.messageId);
        break;
      case "blocked":
        this.blockedUsers.set(body.value.userId, body.value);
        break;
      case "unblocked":
        this.blockedUsers.delete(body.value.userId);
        break;
      case "context":
        this.name = body.value.name;
        this.qaMulti = body.value.qaMode === 1;
        break;
      case "update":
        this.updates.set(body.value.id, body.value);
        break;
      case "feedQa":
        this.published.set(body.value.itemId, body.value);
        break;
      case "feedRemoved":
        this.published.delete(body.value.itemId);
        break;
      case "interaction": {
        const i = body.value;
        const had = this.interactions.get(i.id);
        this.interactions.set(i.id, { ...i, tally: i.tally ?? had?.tally, mine: i.mine ?? had?.mine });
        if (i.leaderboard) this.leaderboard = i.leaderboard;
        break;
      }
      case "tallies":
        for (const t of body.value.tallies) {
          const i = this.interactions.get(t.interactionId);
          if (i) this.interactions.set(i.id, { ...i, tally: t });
        }
        break;
      case "interactionRemoved":
        this.interactions.delete(body.value.interactionId);
        break;
      case "thread": {
        const t = body.value;
        if (t.state === 3 /* DONE */) {
          this.threads.delete(t.id);
          for (const [id, m] of this.threadMessages) if (m.threadId === t.id) this.threadMessages.delete(id);
        } else {
          this.threads.set(t.id, t);
        }
        if (t.counts) this.counts = { ...t.counts };
        break;
      }
      case "rank":
        this.myRank = body.value.mine;
        break;
    }
  }
  /** Published interactions, not drafts. */
  isPublished(i) {
    return i.status === 2 /* PUBLISHED */ || i.status === 3 /* ENDED */;
  }
};
var PrivateState = class {
  settings = { toast: true, privateChat: true, showLastName: true };
  peers = /* @__PURE__ */ new Map();
  conversations = /* @__PURE__ */ new Map();
  applySnapshot(s) {
    if (s.settings) this.settings = s.settings;
    this.peers = new Map(s.peers.map((p) => [p.userId, p]));
  }
  conversation(peer) {
    let c = this.conversations.get(peer);
    if (!c) this.conversations.set(peer, c = /* @__PURE__ */ new Map());
    return c;
  }
  applyPush(push) {
    const body = push.body;
    if (body.case === "settings") {
      this.settings = body.value;
    } else if (body.case === "peerUpdate") {
      const u = body.value;
      if (u.peer) this.peers.set(u.peer.userId, u.peer);
      if (u.message) this.conversation(u.message.peerId).set(u.message.messageId, u.message);
      if (u.removed) this.conversation(u.removed.peerId).delete(u.removed.messageId);
    }
  }
};

// src/chat.ts
function messageItem(session, m, place, onReply) {
  const { ctx, client } = session;
  const author = m.author;
  const mine = !!session.userId && author?.userId === session.userId;
  const canDelete = mine || ctx.isModerator && place.kind !== "backchannel";
  const replied = m.replyTo ? ctx.find(m.replyTo) : void 0;
  const liked = ctx.liked.has(m.id);
  const pinned = ctx.pinned.includes(m.id);
  const ref = { contextId: ctx.id, messageId: m.id };
  const like = async () => {
    const ok = await result(liked ? client.unlike(ref) : client.like(ref));
    if (!ok) return;
    if (liked) ctx.liked.delete(m.id);
    else ctx.liked.add(m.id);
    ctx.setLikes(m.id, ok.likeCount);
    session.refresh();
  };
  return h(
    "li",
    { class: `msg${mine ? " mine" : ""}${author?.moderator ? " by-moderator" : ""}`, "data-testid": "message", "data-id": String(m.id) },
    h(
      "div",
      { class: "meta" },
      h("span", { class: "author" }, author?.asContext ? `${name(author)} (answer)` : name(author)),
      author?.moderator && !author.asContext ? h("span", { class: "badge" }, "Moderator") : null,
      h("span", { class: "time" }, time(m.sentAtMs)),
      pinned ? h("span", { class: "badge pin" }, "📌 Pinned") : null
    ),
    m.replyTo ? h("div", { class: "reply-ref" }, "↪ ", replied ? `${name(replied.author)}: ${replied.text.slice(0, 80)}` : "an earlier message") : null,
    h("div", { class: "text", "data-testid": "message-text" }, m.text),
    h(
      "div",
      { class: "actions" },
      h(
        "button",
        { class: `like${liked ? " on" : ""}`, "aria-pressed": liked ? "true" : "false", title: liked ? "Unlike" : "Like", "data-testid": "like", onclick: like },
        "♥ ",
        h("span", { "data-testid": "like-count" }, m.likeCount)
      ),
      onReply ? h("button", { title: "Reply", "data-testid": "reply", onclick: () => onReply(m) }, "Reply") : null,
      canDelete ? h("button", { title: "Delete", "data-testid": "delete", onclick: () => attempt(client.delete(ref)) }, "🗑") : null,
      ctx.isModerator && place.kind === "chat" ? h("button", { title: pinned ? "Unpin" : "Pin", "data-testid": pinned ? "unpin" : "pin", onclick: () => attempt(pinned ? client.unpin(ref) : client.pin(ref)) }, pinned ? "Unpin" : "📌") : null,
      ctx.isModerator && !mine && author?.userId && !author.asContext && place.kind !== "backchannel" ? h("button", { title: `Block ${name(author)}`, "data-testid": "block", onclick: () => attempt(client.block({ contextId: ctx.id, userId: author.userId })) }, "⛔") : null
    )
  );
}
function composer(placeholder, send, testid = "composer") {
  let replyTo = null;
  let attempted = { text: "", id: "" };
  const input = h("textarea", { placeholder, rows: 2, "data-testid": `${testid}-input`, maxlength: 2e3 });
  const replying = h("div", { class: "replying" });
  const submit = async () => {
    const text = input.value;
    if (!text.trim()) return;
    if (attempted.text !== text) attempted = { text, id: clientId("m") };
    button.disabled = true;
    try {
      if (await send(text, replyTo?.id ?? 0n, attempted.id)) {
        if (input.value === text) input.value = "";
        attempted = { text: "", id: "" };
        setReply(null);
      }
    } finally {
      button.disabled = false;
    }
  };
  const button = h("button", { class: "primary", "data-testid": `${testid}-send`, onclick: submit }, "Send");
  input.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey) {
      e.preventDefault();
      void submit();
    }
  });
  const setReply = (m) => {
    replyTo = m;
    fill(replying, m ? [`Replying to ${name(m.author)}: “${m.text.slice(0, 60)}” `, h("button", { class: "link", onclick: () => setReply(null) }, "cancel")] : []);
    if (m) input.focus();
  };
  const el = h("div", { class: "composer" }, replying, h("div", { class: "row" }, input, button));
  return { el, setReply, input };
}
function sendMessage(session, place, text, replyTo, clientMsgId) {
  return attempt(session.client.send({
    contextId: session.ctx.id,
    text,
    clientMsgId,
    replyTo,
    backchannel: place.kind === "backchannel",
    threadId: place.kind === "thread" ? place.threadId : 0n
  }));
}
function chatView(session, kind) {
  const place = { kind };
  const list = h("ul", { class: "messages", "data-testid": `${kind}-messages` });
  const blocked = h("div", { class: "blocked-users" });
  const c = composer(kind === "chat" ? "Write your message" : "Write to the other moderators", (text, replyTo, id) => sendMessage(session, place, text, replyTo, id), kind);
  const notice = h("div", { class: "notice" });
  let older = true;
  const loadOlder = async () => {
    const ctx = session.ctx;
    const held = kind === "chat" ? ctx.chat : ctx.backchannel;
    const oldest = [...held.keys()].reduce((a, b) => b < a ? b : a, held.keys().next().value ?? 0n);
    const page = await result(session.client.history({ contextId: ctx.id, beforeId: oldest, limit: 50, backchannel: kind === "backchannel" }));
    if (!page) return;
    for (const m of page.messages) if (!held.has(m.id)) held.set(m.id, m);
    for (const id of page.likedByMe) ctx.liked.add(id);
    older = page.hasMore;
    keepScroll = true;
    session.refresh();
  };
  let keepScroll = false;
  const more = h("button", { class: "link older", "data-testid": `${kind}-older`, onclick: loadOlder }, "Load older messages");
  const el = h(
    "section",
    { class: "view", "data-testid": `${kind}-view` },
    kind === "backchannel" ? h("div", { class: "notice moderators-only" }, "Moderator-only area: attendees never see the backchannel.") : null,
    blocked,
    more,
    list,
    notice,
    c.el
  );
  let last = 0n;
  const render = () => {
    const ctx = session.ctx;
    const messages = [...(kind === "chat" ? ctx.chat : ctx.backchannel).values()].sort(byId((m) => m.id));
    more.hidden = !older || messages.length === 0;
    const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
    const fromBottom = list.scrollHeight - list.scrollTop;
    fill(list, messages.length ? messages.map((m) => messageItem(session, m, place, c.setReply)) : h("li", { class: "empty" }, "No messages yet."));
    const newest = messages.at(-1)?.id ?? 0n;
    if (keepScroll) list.scrollTop = list.scrollHeight - fromBottom;
    else if (atBottom || newest !== last) list.scrollTop = list.scrollHeight;
    keepScroll = false;
    last = newest;
    fill(notice, kind === "chat" && ctx.blocked ? "You can read the chat, but a moderator blocked you from writing in it." : null);
    fill(blocked, kind === "chat" && ctx.isModerator && ctx.blockedUsers.size ? h(
      "details",
      { "data-testid": "blocked-users" },
      h("summary", {}, `Blocked users (${ctx.blockedUsers.size})`),
      [...ctx.blockedUsers.values()].map((b) => h(
        "div",
        { class: "row" },
        `${b.userId}${b.email ? ` <${b.email}>` : ""} `,
        h("button", { "data-testid": "unblock", onclick: () => attempt(session.client.unblock({ contextId: ctx.id, userId: b.userId })) }, "Unblock")
      ))
    ) : null);
  };
  return { el, render };
}

// src/feed.ts
var KIND_LABEL = {
  poll: "Poll",
  quiz: "Quiz question",
  rating: "Rating scale",
  crowdVote: "Crowd vote",
  openQuestion: "Open-ended question",
  survey: "Survey",
  announcement: "Announcement"
};
function specOf(i) {
  return i.spec?.kind ?? { case: void 0, value: void 0 };
}
function titleOf(i) {
  const s = specOf(i);
  switch (s.case) {
    case "poll":
    case "quiz":
    case "openQuestion":
      return s.value.question;
    case "rating":
    case "crowdVote":
      return s.value.statement;
    case "survey":
      return s.value.name;
    case "announcement":
      return s.value.title || s.value.text;
    default:
      return "";
  }
}
async function vote(session, i, choice) {
  const ok = await result(session.client.vote({ contextId: session.ctx.id, interactionId: i.id, clientVoteId: clientId("v"), ...choice }));
  if (!ok) return;
  const held = session.ctx.interactions.get(i.id);
  if (held) {
    const mine = { $typeName: "plenary.v1.MyVote", options: [], rating: 0, text: "", survey: [], points: 0, ...choice };
    session.ctx.interactions.set(i.id, { ...held, mine });
  }
  session.refresh();
}
function bars(labels, counts, correct = []) {
  const total = counts.reduce((a, b) => a + b, 0) || 1;
  return h("ul", { class: "bars", "data-testid": "results" }, labels.map((label, n) => {
    const count = counts[n] ?? 0;
    const pct = Math.round(100 * count / total);
    return h(
      "li",
      { class: correct.includes(n) ? "correct" : "" },
      h("span", { class: "label" }, label, correct.includes(n) ? " ✓" : ""),
      h("span", { class: "bar" }, h("span", { class: "fill", style: `width:${pct}%` })),
      h("span", { class: "count", "data-testid": "result-count" }, `${count} (${pct}%)`)
    );
  }));
}
var RATINGS = ["1", "2", "3", "4", "5"];
function results(i) {
  const t = i.tally;
  if (!t) return null;
  const s = specOf(i);
  const voters = h("div", { class: "muted", "data-testid": "voters" }, `${t.voters} ${t.voters === 1 ? "vote" : "votes"}`);
  switch (s.case) {
    case "poll":
    case "quiz":
      return h("div", {}, bars(s.value.options, t.counts, t.correct), voters);
    case "rating":
      return h("div", {}, bars(RATINGS.map((n) => `${s.value.emoji} ${n}`), t.counts), h("div", {}, `Average ${t.average.toFixed(1)}`), voters);
    case "crowdVote":
      return h("div", { "data-testid": "results" }, `${s.value.emoji} ${t.voters} of ${t.present} attendees (${Math.round(t.share)}%)`);
    case "openQuestion":
      return h(
        "div",
        { "data-testid": "results" },
        voters,
        h("div", { class: "words" }, t.words.slice(0, 20).map((w) => h("span", { class: "word", style: `font-size:${Math.min(2, 0.8 + w.count / 5)}em` }, w.word, " "))),
        h("ul", { class: "answers" }, t.answers.slice(0, 20).map((a) => h("li", {}, a.text)))
      );
    case "survey":
      return h("div", { "data-testid": "results" }, voters, s.value.questions.map((q, n) => {
        const qt = t.questions[n];
        if (!qt) return null;
        const labels = q.kind === 3 /* RATING */ ? RATINGS : q.options;
        return h(
          "div",
          { class: "survey-result" },
          h("strong", {}, q.text || `Question ${n + 1}`),
          q.kind === 4 /* OPEN */ ? h("ul", {}, qt.answers.slice(0, 10).map((a) => h("li", {}, a.text))) : bars(labels, qt.counts)
        );
      }));
    default:
      return null;
  }
}
function ballot(session, i) {
  const s = specOf(i);
  const mine = i.mine;
  if (mine) {
    const options = s.case === "poll" || s.case === "quiz" ? s.value.options : [];
    const chosen = mine.options.map((n) => options[n]).filter(Boolean).join(", ");
    const said = chosen || (mine.rating ? `${mine.rating}/5` : "") || mine.text || (s.case === "crowdVote" ? s.value.emoji : "") || "answered";
    return h(
      "div",
      { class: "my-vote", "data-testid": "my-vote" },
      `Your answer: ${said}`,
      s.case === "quiz" && i.status === 3 /* ENDED */ ? ` — ${mine.points} points` : ""
    );
  }
  if (i.status !== 2 /* PUBLISHED */ || session.ctx.isModerator) return null;
  switch (s.case) {
    case "poll":
    case "quiz": {
      const multiple = s.case === "quiz" || s.value.multipleAnswers;
      if (!multiple) {
        return h("div", { class: "options" }, s.value.options.map((o, n) => h("button", { class: "option", "data-testid": "option", onclick: () => vote(session, i, { options: [n] }) }, o)));
      }
      const boxes = s.value.options.map((o) => h("label", { class: "option" }, h("input", { type: "checkbox" }), " ", o));
      return h(
        "div",
        { class: "options" },
        boxes,
        h("button", { class: "primary", "data-testid": "submit-vote", onclick: () => {
          const options = boxes.map((b, n) => b.querySelector("input").checked ? n : -1).filter((n) => n >= 0);
          void vote(session, i, { options });
        } }, "Vote")
      );
    }
    case "rating":
      return h("div", { class: "options" }, [1, 2, 3, 4, 5].map((n) => h("button", { class: "option", "data-testid": "option", title: `${n}`, onclick: () => vote(session, i, { rating: n }) }, s.value.emoji.repeat(n))));
    case "crowdVote":
      return h("button", { class: "option big", "data-testid": "option", onclick: () => vote(session, i, {}) }, s.value.emoji, " I'm in");
    case "openQuestion": {
      const input = h("input", { type: "text", placeholder: "Your answer", maxlength: 500, "data-testid": "open-answer" });
      return h("div", { class: "row" }, input, h("button", { class: "primary", "data-testid": "submit-vote", onclick: () => input.value.trim() && vote(session, i, { text: input.value }) }, "Send"));
    }
    case "survey":
      return surveyForm(session, i);
    default:
      return null;
  }
}
function surveyForm(session, i) {
  const s = specOf(i);
  if (s.case !== "survey") return null;
  const form = h("div", { class: "survey", hidden: true });
  const fields = s.value.questions.map((q, n) => {
    const label = h("div", { class: "question" }, `${n + 1}. ${q.text}${q.mandatory ? " *" : ""}`);
    let read;
    let input;
    if (q.kind === 1 /* MULTIPLE_CHOICE */ || q.kind === 2 /* ICON_CHOICE */) {
      const type = q.multipleAnswers ? "checkbox" : "radio";
      const boxes = q.options.map((o) => h("label", {}, h("input", { type, name: `s${i.id}-${n}` }), " ", o));
      input = h("div", { class: "options" }, boxes);
      read = () => {
        const options = boxes.map((b, k) => b.querySelector("input").checked ? k : -1).filter((k) => k >= 0);
        return options.length ? { question: n, options } : null;
      };
    } else if (q.kind === 3 /* RATING */) {
      const select = h("select", {}, h("option", { value: "" }, "—"), [1, 2, 3, 4, 5].map((r) => h("option", { value: r }, `${q.emoji || "⭐"} ${r}`)));
      input = select;
      read = () => select.value ? { question: n, rating: Number(select.value) } : null;
    } else {
      const text = h("input", { type: "text", maxlength: 500 });
      input = text;
      read = () => text.value.trim() ? { question: n, text: text.value } : null;
    }
    return { el: h("div", { class: "survey-q" }, label, input), read };
  });
  fill(
    form,
    fields.map((f) => f.el),
    h("button", { class: "primary", onclick: () => vote(session, i, { survey: fields.map((f) => f.read()).filter(Boolean) }) }, "Submit")
  );
  return h("div", {}, h("button", { class: "primary", "data-testid": "start-survey", onclick: (e) => {
    form.hidden = false;
    e.target.remove();
  } }, s.value.startLabel || "Take survey"), form);
}
function moderatorControls(session, i) {
  const act = (action) => attempt(session.client.interactionAction({ contextId: session.ctx.id, interactionId: i.id, action }));
  const published = i.status === 2 /* PUBLISHED */;
  const voting = specOf(i).case !== "announcement";
  return h(
    "div",
    { class: "controls" },
    voting ? i.resultsShown ? h("button", { "data-testid": "hide-results", onclick: () => act(3 /* HIDE_RESULTS */) }, "Hide results") : h("button", { "data-testid": "show-results", onclick: () => act(2 /* SHOW_RESULTS */) }, "Show results") : null,
    published && voting ? h("button", { "data-testid": "end", onclick: () => act(4 /* END */) }, "End") : null,
    h("button", { "data-testid": "unpublish", onclick: () => act(5 /* UNPUBLISH */) }, "Unpublish")
  );
}
function interactionCard(session, i) {
  const s = specOf(i);
  const kind = s.case ?? "poll";
  const ended = i.status === 3 /* ENDED */;
  const head = h("div", { class: "card-head" }, h("span", { class: "kind" }, KIND_LABEL[kind]), ended ? h("span", { class: "badge" }, "Ended") : null);
  const attrs = { "data-testid": "interaction", "data-id": String(i.id), "data-kind": kind, "data-status": InteractionStatus[i.status] };
  if (s.case === "announcement") {
    const a = s.value;
    return h(
      "article",
      { class: "card announcement", ...attrs },
      head,
      a.title ? h("h3", {}, a.title) : null,
      h("p", {}, a.text),
      a.ctaUrl ? h("a", { class: "button", href: a.ctaUrl, target: "_blank", rel: "noopener noreferrer" }, a.ctaLabel) : null,
      session.ctx.isModerator ? moderatorControls(session, i) : null
    );
  }
  return h(
    "article",
    { class: "card", ...attrs },
    head,
    h("h3", { "data-testid": "interaction-title" }, titleOf(i)),
    s.case === "survey" && s.value.intro ? h("p", {}, s.value.intro) : null,
    ballot(session, i),
    results(i),
    session.ctx.isModerator ? moderatorControls(session, i) : null
  );
}
function feedView(session) {
  const list = h("div", { class: "feed", "data-testid": "feed" });
  const el = h("section", { class: "view", "data-testid": "feed-view" }, list);
  const render = () => {
    const { ctx, client } = session;
    const items = [];
    const pinned = ctx.pinned.flatMap((id) => {
      const m = ctx.pinnedMessages.get(id);
      if (!m) return [];
      return [h(
        "article",
        { class: "card pinned", "data-testid": "pinned", "data-id": String(id) },
        h("div", { class: "card-head" }, h("span", { class: "kind" }, "📌 Pinned message")),
        h("div", { class: "author" }, name(m.author)),
        h("p", {}, m.text),
        ctx.isModerator ? h("button", { "data-testid": "unpin", onclick: () => attempt(client.unpin({ contextId: ctx.id, messageId: id })) }, "Unpin") : null
      )];
    });
    for (const f of ctx.published.values()) {
      items.push({ order: f.itemId, el: h(
        "article",
        { class: "card qa", "data-testid": "feed-qa", "data-id": String(f.itemId) },
        h("div", { class: "card-head" }, h("span", { class: "kind" }, "Q&A")),
        h("p", { class: "question" }, h("strong", {}, "Q: "), f.question?.text ?? ""),
        h("p", { class: "answer" }, h("strong", {}, `A (${name(f.answer?.author)}): `), f.answer?.text ?? ""),
        ctx.isModerator ? h("button", { "data-testid": "unpublish-qa", onclick: () => attempt(client.unpublish({ contextId: ctx.id, itemId: f.itemId })) }, "Unpublish") : null
      ) });
    }
    for (const i of ctx.interactions.values()) {
      if (ctx.isPublished(i)) items.push({ order: i.publishedSeq, el: interactionCard(session, i) });
    }
    items.sort((a, b) => a.order > b.order ? -1 : a.order < b.order ? 1 : 0);
    const all = [...pinned, ...items.map((x) => x.el)];
    fill(list, all.length ? all : h("p", { class: "empty" }, "Nothing in the feed yet."));
  };
  return { el, render };
}

// src/interactions.ts
var EMOJI = ["⭐", "❤️", "👍", "🔥", "🎉"];
function interactionsView(session) {
  let editing = 0n;
  const kinds = ["poll", "quiz", "rating", "crowdVote", "openQuestion", "announcement"];
  const kind = h("select", { "data-testid": "interaction-kind" }, kinds.map((k) => h("option", { value: k }, KIND_LABEL[k])));
  const fields = h("div", { class: "fields" });
  const drafts = h("div", { class: "drafts", "data-testid": "drafts" });
  const live = h("div", { class: "published", "data-testid": "published" });
  const question = h("input", { type: "text", maxlength: 500, "data-testid": "interaction-question" });
  const optionList = h("div", { class: "option-inputs" });
  const share = h("input", { type: "checkbox", "data-testid": "share-results" });
  const multiple = h("input", { type: "checkbox", "data-testid": "multiple-answers" });
  const showCorrect = h("input", { type: "checkbox", checked: true });
  const emoji = h("select", {}, EMOJI.map((e) => h("option", { value: e }, e)));
  const title = h("input", { type: "text", maxlength: 150 });
  const text = h("textarea", { rows: 3, maxlength: 2e3 });
  const ctaLabel = h("input", { type: "text", maxlength: 40, placeholder: "Button label" });
  const ctaUrl = h("input", { type: "url", placeholder: "https://…" });
  const addOption = (value = "", correct = false) => {
    if (optionList.children.length >= 5) return;
    const row = h(
      "div",
      { class: "row option-input" },
      h("input", { type: "checkbox", class: "correct", title: "Correct answer", checked: correct }),
      h("input", { type: "text", maxlength: 200, value, placeholder: `Option ${optionList.children.length + 1}`, "data-testid": "interaction-option" }),
      h("button", { class: "small", title: "Remove", onclick: () => optionList.children.length > 2 && row.remove() }, "🗑")
    );
    optionList.append(row);
  };
  const layout = () => {
    const k = kind.value;
    const label = (text2, input) => h("label", { class: "field" }, h("span", {}, text2), input);
    optionList.classList.toggle("quiz", k === "quiz");
    fill(
      fields,
      k === "announcement" ? [label("Title (optional)", title), label("Announcement", text), label("Call to action (optional)", h("div", { class: "row" }, ctaLabel, ctaUrl))] : [
        label(k === "rating" || k === "crowdVote" ? "Statement" : "Question", question),
        k === "poll" || k === "quiz" ? [optionList, h("button", { class: "link", onclick: () => addOption() }, "+ Add option")] : null,
        k === "rating" || k === "crowdVote" ? label("Emoji", emoji) : null,
        k === "poll" ? h("label", {}, multiple, " Enable multiple answers") : null,
        k === "quiz" ? h("label", {}, showCorrect, " Show the correct answer when it ends") : null,
        h("label", {}, share, " Share results with attendees")
      ]
    );
  };
  kind.addEventListener("change", layout);
  const reset = () => {
    editing = 0n;
    for (const input of [question, title, text, ctaLabel, ctaUrl]) input.value = "";
    share.checked = multiple.checked = false;
    optionList.replaceChildren();
    addOption();
    addOption();
    layout();
  };
  const spec = () => {
    const rows = [...optionList.querySelectorAll(".option-input")];
    const options = rows.map((r) => r.querySelector("input[type=text]").value);
    const correct = rows.map((r, n) => r.querySelector(".correct").checked ? n : -1).filter((n) => n >= 0);
    const shareResults = share.checked;
    const kinds2 = {
      poll: { question: question.value, options, shareResults, multipleAnswers: multiple.checked },
      quiz: { question: question.value, options, correct, showCorrect: showCorrect.checked, shareResults },
      rating: { statement: question.value, emoji: emoji.value, shareResults },
      crowdVote: { statement: question.value, emoji: emoji.value, shareResults },
      openQuestion: { question: question.value, shareResults },
      announcement: { title: title.value, text: text.value, ctaLabel: ctaLabel.value, ctaUrl: ctaUrl.value }
    };
    const k = kind.value;
    return { kind: { case: k, value: kinds2[k] } };
  };
  const action = (id, action2) => attempt(session.client.interactionAction({ contextId: session.ctx.id, interactionId: id, action: action2 }));
  const save = async (publish) => {
    const saved = await result(session.client.saveInteraction({
      contextId: session.ctx.id,
      interactionId: editing,
      spec: spec(),
      clientSaveId: editing ? "" : clientId("s")
    }));
    if (!saved) return;
    if (publish) await action(saved.interactionId, 1 /* PUBLISH */);
    reset();
  };
  const edit = (i) => {
    const s = specOf(i);
    if (!s.case || s.case === "survey") return;
    editing = i.id;
    kind.value = s.case;
    const v = s.value;
    question.value = String(v.question ?? v.statement ?? "");
    share.checked = !!v.shareResults;
    multiple.checked = !!v.multipleAnswers;
    if (v.emoji) emoji.value = String(v.emoji);
    title.value = String(v.title ?? "");
    text.value = String(v.text ?? "");
    ctaLabel.value = String(v.ctaLabel ?? "");
    ctaUrl.value = String(v.ctaUrl ?? "");
    optionList.replaceChildren();
    const correct = v.correct ?? [];
    (v.options ?? []).forEach((o, n) => addOption(o, correct.includes(n)));
    layout();
  };
  const el = h(
    "section",
    { class: "view", "data-testid": "interactions-view" },
    h(
      "div",
      { class: "card editor" },
      h("div", { class: "row" }, h("strong", {}, "Create"), kind),
      fields,
      h(
        "div",
        { class: "row" },
        h("button", { "data-testid": "save-draft", onclick: () => save(false) }, "Save as draft"),
        h("button", { class: "primary", "data-testid": "publish-now", onclick: () => save(true) }, "Publish now")
      )
    ),
    h("h3", {}, "Interactions drafts"),
    drafts,
    h("h3", {}, "Published"),
    live
  );
  reset();
  const render = () => {
    const all = [...session.ctx.interactions.values()].sort(byId((i) => i.id));
    const draftList = all.filter((i) => i.status === 1 /* DRAFT */);
    fill(drafts, draftList.length ? draftList.map((i) => h(
      "div",
      { class: "draft row", "data-testid": "draft", "data-id": String(i.id) },
      h("span", { class: "kind" }, KIND_LABEL[specOf(i).case ?? "poll"]),
      h("span", { class: "grow" }, titleOf(i)),
      specOf(i).case !== "survey" ? h("button", { onclick: () => edit(i) }, "✎ Edit") : null,
      h("button", { class: "primary", "data-testid": "publish-draft", onclick: () => action(i.id, 1 /* PUBLISH */) }, "Publish now"),
      h("button", { title: "Delete", onclick: () => action(i.id, 6 /* DELETE */) }, "🗑")
    )) : h("p", { class: "empty" }, "No drafts."));
    const published = all.filter((i) => session.ctx.isPublished(i)).reverse();
    fill(live, published.length ? published.map((i) => interactionCard(session, i)) : h("p", { class: "empty" }, "Nothing published yet."));
  };
  return { el, render };
}

// src/private.ts
var STATUS_LABEL = {
  [0 /* NONE */]: "",
  [1 /* REQUEST_SENT */]: "Request sent",
  [2 /* REQUEST_RECEIVED */]: "Wants to connect",
  [3 /* CONNECTED */]: "Connected",
  [4 /* IGNORED */]: "Ignored"
};
function privateView(session) {
  const { client } = session;
  let open = "";
  const loaded = /* @__PURE__ */ new Set();
  const search = h("input", { type: "search", placeholder: "Search people by name", "data-testid": "people-query" });
  const found = h("ul", { class: "people", "data-testid": "people" });
  const peers = h("div", { class: "peers", "data-testid": "peers" });
  const conversation = h("div", { class: "conversation" });
  const connect = (userId, action) => attempt(client.connection({ userId, action }));
  const runSearch = async () => {
    try {
      const r = await client.people({ query: search.value, limit: 20 });
      fill(found, r.people.length ? r.people.map((p) => h(
        "li",
        { class: "row", "data-testid": "person", "data-user": p.userId },
        h("span", { class: "grow" }, p.name || p.userId),
        p.status === 0 /* NONE */ ? h("button", { class: "primary", "data-testid": "connect", onclick: async () => {
          await connect(p.userId, 1 /* REQUEST */);
          void runSearch();
        } }, "Connect") : h("span", { class: "muted" }, STATUS_LABEL[p.status])
      )) : h("li", { class: "empty" }, "Nobody found."));
    } catch (e) {
      fill(found, h("li", { class: "empty" }, e.message));
    }
  };
  let debounce = 0;
  search.addEventListener("input", () => {
    clearTimeout(debounce);
    debounce = window.setTimeout(runSearch, 300);
  });
  const dm = composer("Write a private message", (text, _replyTo, clientMsgId) => attempt(client.dmSend({ userId: open, text, clientMsgId })), "dm");
  const loadHistory = async (peer) => {
    loaded.add(peer);
    try {
      const r = await client.dmHistory({ userId: peer, beforeId: 0n, limit: 50 });
      const c = session.priv.conversation(peer);
      for (const m of r.messages) c.set(m.messageId, m);
      render();
    } catch {
      loaded.delete(peer);
    }
  };
  const marked = /* @__PURE__ */ new Map();
  const markRead = (peer, messages) => {
    const theirs = messages.filter((m) => m.senderId !== session.userId).at(-1);
    const asked = marked.get(peer.userId) ?? peer.myReadId;
    if (theirs && theirs.messageId > asked && document.visibilityState === "visible") {
      marked.set(peer.userId, theirs.messageId);
      client.dmRead({ userId: peer.userId, messageId: theirs.messageId }).catch(() => marked.delete(peer.userId));
    }
  };
  const renderConversation = () => {
    const peer = session.priv.peers.get(open);
    if (!peer) {
      fill(conversation, h("p", { class: "empty" }, "Choose a connection to chat with."));
      return;
    }
    if (!loaded.has(open)) void loadHistory(open);
    const messages = [...session.priv.conversation(open).values()].sort(byId((m) => m.messageId));
    const lastMine = messages.filter((m) => m.senderId === session.userId).at(-1);
    const list = h("ul", { class: "messages dm", "data-testid": "dm-messages" }, messages.map((m) => {
      const mine = m.senderId === session.userId;
      return h(
        "li",
        { class: `msg${mine ? " mine" : ""}`, "data-testid": "dm-message", "data-id": String(m.messageId) },
        h("div", { class: "meta" }, h("span", { class: "author" }, mine ? "You" : peer.name), h("span", { class: "time" }, time(m.sentAtMs))),
        h("div", { class: "text", "data-testid": "message-text" }, m.text),
        mine ? h(
          "div",
          { class: "actions" },
          h("button", { title: "Delete", onclick: () => attempt(client.dmDelete({ userId: open, messageId: m.messageId })) }, "🗑"),
          m === lastMine && peer.peerReadId >= m.messageId ? h("span", { class: "seen", "data-testid": "seen" }, "Seen") : null
        ) : null
      );
    }));
    const connected = peer.status === 3 /* CONNECTED */;
    fill(
      conversation,
      h(
        "div",
        { class: "thread-head" },
        h("button", { class: "link", onclick: () => {
          open = "";
          render();
        } }, "← Back"),
        h("strong", { "data-testid": "dm-peer" }, peer.name || peer.userId),
        h("span", { class: "muted" }, STATUS_LABEL[peer.status]),
        connected ? h("button", { class: "small", onclick: () => connect(peer.userId, 4 /* REMOVE */) }, "Remove connection") : null
      ),
      list,
      connected ? dm.el : h("p", { class: "muted" }, "You can write once you are connected.")
    );
    list.scrollTop = list.scrollHeight;
    markRead(peer, messages);
  };
  const render = () => {
    const all = [...session.priv.peers.values()];
    const requests = all.filter((p) => p.status === 2 /* REQUEST_RECEIVED */ || p.status === 4 /* IGNORED */);
    const others = all.filter((p) => !requests.includes(p) && (p.status !== 0 /* NONE */ || p.lastMessage));
    fill(
      peers,
      requests.length ? h("div", { class: "requests" }, h("h3", {}, "Requests"), requests.map((p) => h(
        "div",
        { class: "row", "data-testid": "request", "data-user": p.userId },
        h("span", { class: "grow" }, p.name || p.userId, p.status === 4 /* IGNORED */ ? h("span", { class: "muted" }, " (ignored)") : null),
        h("button", { class: "primary", "data-testid": "accept", onclick: () => connect(p.userId, 2 /* ACCEPT */) }, "Accept"),
        p.status === 2 /* REQUEST_RECEIVED */ ? h("button", { "data-testid": "ignore", onclick: () => connect(p.userId, 3 /* IGNORE */) }, "Ignore") : null
      ))) : null,
      h("h3", {}, "Conversations"),
      others.length ? others.map((p) => h(
        "button",
        { class: `peer${p.userId === open ? " open" : ""}`, "data-testid": "peer", "data-user": p.userId, onclick: () => {
          open = p.userId;
          render();
        } },
        h("span", { class: "grow" }, p.name || p.userId),
        h("span", { class: "muted" }, STATUS_LABEL[p.status]),
        p.unread ? h("span", { class: "unread", "data-testid": "unread" }, p.unread) : null
      )) : h("p", { class: "empty" }, "No connections yet.")
    );
    renderConversation();
  };
  const el = h(
    "section",
    { class: "view private", "data-testid": "private-view" },
    h(
      "details",
      { class: "connect-with", "data-testid": "connect-with", ontoggle: (e) => e.target.open && runSearch() },
      h("summary", {}, "Connect with attendees"),
      search,
      found
    ),
    h("div", { class: "split" }, peers, conversation)
  );
  return { el, render, unread: () => [...session.priv.peers.values()].reduce((n, p) => n + p.unread, 0) };
}

// src/qa.ts
var STATE_LABEL = {
  [0 /* PENDING */]: "Pending",
  [1 /* OWNED */]: "Claimed",
  [2 /* RESOLVED */]: "Resolved",
  [3 /* DONE */]: "Done"
};
var stateName = (t) => ThreadState[t.state];
function qaView(session) {
  const { client } = session;
  const body = h("div", { class: "qa-body" });
  let open = 0n;
  const el = h("section", { class: "view", "data-testid": "qa-view" }, body);
  const ask = composer("Type your question", async (text, _replyTo, clientMsgId) => {
    const ok = await result(client.ask({ contextId: session.ctx.id, text, clientMsgId, threadId: 0n }));
    if (ok) open = ok.threadId;
    render();
    return !!ok;
  }, "ask");
  const threadComposers = /* @__PURE__ */ new Map();
  const threadComposer = (t) => {
    let c = threadComposers.get(t.id);
    if (!c) {
      const place = { kind: "thread", threadId: t.id };
      c = session.ctx.isModerator ? composer(`Answering as ${session.ctx.name || session.ctx.id}`, (text, replyTo, id) => sendMessage(session, place, text, replyTo, id), "answer") : composer("Follow up on your question", (text, replyTo, clientMsgId) => (
        // A reply to a message of the thread is a `send` in it; anything else asks
        // again in the thread (which sends a resolved one back to pending).
        replyTo ? sendMessage(session, place, text, replyTo, clientMsgId) : attempt(client.ask({ contextId: session.ctx.id, text, clientMsgId, threadId: t.id }))
      ), "followup");
      threadComposers.set(t.id, c);
    }
    return c;
  };
  const messagesOf = (threadId) => [...session.ctx.threadMessages.values()].filter((m) => m.threadId === threadId).sort(byId((m) => m.id));
  const action = (t, action2) => attempt(client.threadAction({ contextId: session.ctx.id, threadId: t.id, action: action2 }));
  const moderatorActions = (t) => {
    const mine = t.ownerId === session.userId;
    switch (t.state) {
      case 0 /* PENDING */:
        return [h("button", { class: "primary", "data-testid": "claim", onclick: async () => {
          if (await action(t, 4 /* CLAIM */)) {
            open = t.id;
            render();
          }
        } }, "Reply")];
      case 1 /* OWNED */:
        return mine ? [
          h("button", { "data-testid": "release", onclick: () => action(t, 1 /* RELEASE */) }, "Send back to pending"),
          h("button", { "data-testid": "resolve", onclick: () => action(t, 2 /* RESOLVE */) }, "Resolve")
        ] : [h("span", { class: "muted" }, `claimed by ${t.ownerId}`)];
      case 2 /* RESOLVED */:
        return [h("button", { "data-testid": "clear", onclick: async () => {
          if (await action(t, 3 /* CLEAR */)) {
            open = 0n;
            render();
          }
        } }, "Clear")];
      default:
        return [];
    }
  };
  const threadRow = (t) => {
    const first = messagesOf(t.id).find((m) => !m.author?.moderator);
    return h(
      "li",
      { class: "thread-row", "data-testid": "thread", "data-id": String(t.id), "data-state": stateName(t) },
      h(
        "button",
        { class: "thread-open", "data-testid": "open-thread", onclick: () => {
          open = t.id;
          render();
        } },
        h("span", { class: "author" }, session.ctx.isModerator ? name(t.attendee) : "Your question"),
        h("span", { class: `state ${stateName(t)}` }, STATE_LABEL[t.state]),
        h("span", { class: "preview" }, first?.text ?? "")
      ),
      session.ctx.isModerator ? h("span", { class: "thread-actions" }, moderatorActions(t)) : null
    );
  };
  const publishButton = (t, answer, messages) => {
    const question = [...messages].reverse().find((m) => m.id < answer.id && m.author?.userId === t.attendee?.userId);
    if (!question) return null;
    return h("button", { class: "small", "data-testid": "publish-qa", onclick: () => attempt(client.publishQa({ contextId: session.ctx.id, threadId: t.id, questionId: question.id, answerId: answer.id })) }, "Publish to feed");
  };
  const threadDetail = (t) => {
    const messages = messagesOf(t.id);
    const c = threadComposer(t);
    const moderator = session.ctx.isModerator;
    return h(
      "div",
      { class: "thread-detail", "data-testid": "thread-detail", "data-id": String(t.id), "data-state": stateName(t) },
      h(
        "div",
        { class: "thread-head" },
        h("button", { class: "link", "data-testid": "back", onclick: () => {
          open = 0n;
          render();
        } }, "← Back"),
        h("strong", {}, moderator ? name(t.attendee) : "Your question"),
        h("span", { class: `state ${stateName(t)}`, "data-testid": "thread-state" }, STATE_LABEL[t.state]),
        moderator ? h("span", { class: "thread-actions" }, moderatorActions(t)) : null
      ),
      h("ul", { class: "messages" }, messages.map((m) => {
        const item = messageItem(session, m, { kind: "thread", threadId: t.id }, c.setReply);
        if (moderator && m.author?.moderator) item.querySelector(".actions")?.append(publishButton(t, m, messages) ?? "");
        return item;
      })),
      c.el
    );
  };
  const render = () => {
    const ctx = session.ctx;
    const threads = [...ctx.threads.values()].sort(byId((t) => t.id));
    const current = open ? ctx.threads.get(open) : void 0;
    if (current) {
      fill(body, threadDetail(current));
      return;
    }
    if (ctx.isModerator) {
      const group = (state, count) => {
        const rows = threads.filter((t) => t.state === state);
        return h(
          "details",
          { open: true, class: "queue", "data-testid": `queue-${ThreadState[state].toLowerCase()}` },
          h("summary", {}, `${STATE_LABEL[state]} (`, h("span", { "data-testid": "count" }, count), ")"),
          h("ul", { class: "threads" }, rows.length ? rows.map(threadRow) : h("li", { class: "empty" }, "None"))
        );
      };
      fill(
        body,
        threads.length ? null : h("p", { class: "empty" }, "No questions from attendees yet."),
        group(0 /* PENDING */, ctx.counts.pending),
        group(1 /* OWNED */, ctx.counts.owned),
        group(2 /* RESOLVED */, ctx.counts.resolved)
      );
    } else {
      fill(
        body,
        h("ul", { class: "threads" }, threads.length ? threads.map(threadRow) : h("li", { class: "empty" }, "Ask the moderators a question: only they see it.")),
        h("div", { class: "ask" }, h("strong", {}, "Ask new question"), ask.el)
      );
    }
  };
  return { el, render };
}

// src/session.ts
var Session = class {
  client;
  ctx;
  priv = new PrivateState();
  userId = "";
  status = "connecting";
  refusal = "";
  /** How the streams came back after drops: for the status line and the tests. */
  stats = { connects: 0, snapshots: 0, recovered: 0, missed: 0 };
  joined = false;
  changed = /* @__PURE__ */ new Set();
  pushed = /* @__PURE__ */ new Set();
  constructor(url, token, contextId) {
    this.ctx = new ContextState(contextId);
    this.client = new PlenaryClient({ url, getToken: async () => token });
    const client = this.client;
    client.on("connected", (ok) => {
      this.userId = ok.userId;
      this.stats.connects += 1;
      this.update();
    });
    client.on("snapshot", (id, snapshot, join) => {
      if (id !== this.ctx.id) return;
      this.ctx.applyJoin(join);
      this.ctx.applySnapshot(snapshot);
      this.stats.snapshots += 1;
      this.update();
    });
    client.on("privateSnapshot", (snapshot) => {
      this.priv.applySnapshot(snapshot);
      this.update();
    });
    client.on("recovered", (_stream, missed) => {
      this.stats.recovered += 1;
      this.stats.missed += missed;
      this.update();
    });
    client.on("push", (push) => {
      if (push.contextId === PRIVATE_STREAM) this.priv.applyPush(push);
      else if (push.contextId === this.ctx.id) this.ctx.applyPush(push);
      else return;
      for (const f of this.pushed) f(push);
      this.emit();
    });
    client.on("state", () => this.update());
    client.on("lost", (stream, error) => {
      if (stream === this.ctx.id) this.refuse(`no longer joined: ${error.message}`);
    });
    client.on("error", (error) => {
      if (error instanceof PlenaryError && (error.code === 3 /* UNAUTHORIZED */ || error.code === 4 /* TOKEN_EXPIRED */)) {
        this.refuse(error.message);
      }
    });
    client.on("disconnected", (info) => {
      if (!info.willReconnect && !this.refusal) this.refuse(info.reason || `closed (${info.code})`);
    });
  }
  /** Called after every change of what the views show. */
  onChange(f) {
    this.changed.add(f);
  }
  /** Every push as it arrives (toasts, reactions), after it was applied. */
  onPush(f) {
    this.pushed.add(f);
  }
  /** Tells the views that something changed here (a command's own result). */
  refresh() {
    this.emit();
  }
  async start() {
    try {
      await this.client.connect();
      await this.client.join(this.ctx.id);
      await this.client.openPrivate();
      this.joined = true;
      this.update();
    } catch (e) {
      this.refuse(e.message);
    }
  }
  refuse(why) {
    this.refusal ||= why;
    this.client.close();
    this.update();
  }
  update() {
    const state = this.client.state;
    this.status = this.refusal ? "refused" : state === "connected" && this.joined ? "connected" : this.joined || state === "disconnected" ? "reconnecting" : "connecting";
    this.emit();
  }
  emit() {
    for (const f of this.changed) f();
  }
};

// src/main.ts
var REACTIONS = [
  [1 /* CLAP */, "👏"],
  [2 /* HEART */, "❤️"],
  [3 /* LAUGH */, "😂"],
  [4 /* THUMBS_UP */, "👍"],
  [5 /* WOW */, "😮"]
];
var root = document.getElementById("root");
var params = new URLSearchParams(location.hash.slice(1));
function wsUrl() {
  return `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`;
}
async function demoAvailable() {
  const r = await fetch("/app/demo-token", { cache: "no-store" }).catch(() => null);
  return r?.status === 400;
}
async function login() {
  const token = params.get("token") ?? sessionStorage.getItem("plenary.token");
  const context = params.get("context") ?? sessionStorage.getItem("plenary.context") ?? "webinar-1";
  if (token) {
    history.replaceState(null, "", location.pathname + location.search);
    return start(token, context);
  }
  const contextInput = h("input", { type: "text", value: context, "data-testid": "login-context" });
  const tokenInput = h("textarea", { rows: 4, placeholder: "Paste an access token (JWT)", "data-testid": "login-token" });
  const demo = h("div", { class: "demo" });
  const form = h(
    "form",
    { class: "card login", "data-testid": "login", onsubmit: (e) => {
      e.preventDefault();
      if (tokenInput.value.trim()) void start(tokenInput.value.trim(), contextInput.value.trim() || "webinar-1");
    } },
    h("h1", {}, "Plenary"),
    h("label", { class: "field" }, h("span", {}, "Webinar (context id)"), contextInput),
    h("label", { class: "field" }, h("span", {}, "Access token"), tokenInput),
    h("button", { class: "primary", type: "submit", "data-testid": "login-submit" }, "Join"),
    demo
  );
  fill(root, form);
  if (await demoAvailable()) {
    const sub = h("input", { type: "text", placeholder: "user id, e.g. u-ann", "data-testid": "demo-sub" });
    const display = h("input", { type: "text", placeholder: "Ann Lee", "data-testid": "demo-name" });
    const moderator = h("input", { type: "checkbox", "data-testid": "demo-moderator" });
    fill(demo, h(
      "fieldset",
      {},
      h("legend", {}, "Demo mode (--demo-tokens is on)"),
      h("label", { class: "field" }, h("span", {}, "User id"), sub),
      h("label", { class: "field" }, h("span", {}, "Name"), display),
      h("label", {}, moderator, " Moderator of this webinar"),
      h("button", { type: "button", "data-testid": "demo-token", onclick: async () => {
        const q = new URLSearchParams({ sub: sub.value.trim(), name: display.value.trim() });
        if (moderator.checked) q.set("moderates", contextInput.value.trim());
        const r = await fetch(`/app/demo-token?${q}`, { cache: "no-store" });
        const text = (await r.text()).trim();
        if (r.ok) tokenInput.value = text;
        else toast("No token", text, "error");
      } }, "Get a demo token")
    ));
  }
}
async function start(token, contextId) {
  sessionStorage.setItem("plenary.token", token);
  sessionStorage.setItem("plenary.context", contextId);
  const session = new Session(wsUrl(), token, contextId);
  const status = h("span", { class: "status", "data-testid": "status" });
  const title = h("h1", { "data-testid": "context-name" }, contextId);
  const who = h("span", { class: "who", "data-testid": "who" });
  const tabs = h("nav", { class: "tabs", role: "tablist" });
  const main = h("main", {});
  const settings = h("div", { class: "settings card", hidden: true, "data-testid": "settings" });
  const reactionsBar = h("div", { class: "reactions", "data-testid": "reactions" });
  const burst = h("div", { class: "burst", "aria-hidden": "true" });
  fill(
    root,
    h(
      "header",
      {},
      title,
      who,
      status,
      h("button", { class: "icon", title: "Settings", "data-testid": "settings-button", onclick: () => settings.hidden = !settings.hidden }, "⋯")
    ),
    settings,
    tabs,
    main,
    reactionsBar,
    burst
  );
  const views = /* @__PURE__ */ new Map();
  let active = "chat";
  let built;
  let scheduled = false;
  const updates = h("ul", { class: "updates", "data-testid": "updates" });
  const updatesView = { el: h("section", { class: "view", "data-testid": "updates-view" }), render: () => {
  } };
  const build = () => {
    const role = session.ctx.role;
    if (built === role) return;
    built = role;
    views.clear();
    const add = (key, label, view, badge) => views.set(key, { ...view, label, badge });
    add("chat", "Chat", chatView(session, "chat"));
    add("qa", "Q&A", qaView(session));
    add("feed", "Feed", feedView(session));
    if (session.ctx.isModerator) {
      add("backchannel", "Backchannel", chatView(session, "backchannel"));
      add("interactions", "Interactions", interactionsView(session));
    }
    add("updates", "Updates", buildUpdates());
    const priv = privateView(session);
    add("private", "Private chat", priv, priv.unread);
  };
  function buildUpdates() {
    const titleInput = h("input", { type: "text", maxlength: 150, placeholder: "Title (optional)", "data-testid": "update-title" });
    const text = h("textarea", { rows: 2, maxlength: 2e3, placeholder: "Notify everyone…", "data-testid": "update-text" });
    const asToast = h("input", { type: "checkbox", checked: true });
    const form = session.ctx.isModerator ? h(
      "div",
      { class: "card" },
      titleInput,
      text,
      h(
        "div",
        { class: "row" },
        h("label", {}, asToast, " Show as a toast"),
        h("button", { class: "primary", "data-testid": "post-update", onclick: async () => {
          if (await attempt(session.client.postUpdate({ contextId: session.ctx.id, title: titleInput.value, text: text.value, toast: asToast.checked }))) titleInput.value = text.value = "";
        } }, "Send update")
      )
    ) : null;
    fill(updatesView.el, form, updates);
    updatesView.render = () => {
      const all = [...session.ctx.updates.values()].sort(byId((u) => u.id)).reverse();
      fill(updates, all.length ? all.map((u) => h("li", { class: "card", "data-testid": "update" }, u.title ? h("strong", {}, u.title) : null, h("p", {}, u.text))) : h("li", { class: "empty" }, "No updates yet."));
    };
    return updatesView;
  }
  const renderSettings = () => {
    const s = session.priv.settings;
    const toggle = (key, label) => h("label", { class: "row" }, h("input", { type: "checkbox", checked: s[key], "data-testid": `setting-${key}`, onchange: (e) => attempt(session.client.settings({ [key]: e.target.checked })) }), ` ${label}`);
    fill(
      settings,
      h("strong", {}, "Settings"),
      toggle("toast", "Allow toast notifications"),
      toggle("privateChat", "Enable private chat"),
      toggle("showLastName", "Show my last name")
    );
  };
  const renderAll = () => {
    scheduled = false;
    build();
    const ctx = session.ctx;
    fill(title, ctx.name || ctx.id);
    fill(who, session.userId ? `${session.userId} · ${ctx.isModerator ? "Moderator" : "Attendee"}` : "");
    status.dataset.state = session.status;
    fill(status, { connecting: "Connecting…", connected: "● Live", reconnecting: "Reconnecting…", refused: `Refused: ${session.refusal}` }[session.status]);
    if (session.status === "refused") sessionStorage.removeItem("plenary.token");
    if (!views.has(active)) active = "chat";
    fill(tabs, [...views].map(([key, v]) => {
      const badge = v.badge?.() ?? 0;
      return h("button", {
        role: "tab",
        class: key === active ? "active" : "",
        "aria-selected": key === active ? "true" : "false",
        "data-testid": `tab-${key}`,
        onclick: () => {
          active = key;
          renderAll();
        }
      }, v.label, badge ? h("span", { class: "unread" }, badge) : null);
    }));
    const view = views.get(active);
    if (main.firstChild !== view.el) fill(main, view.el);
    view.render();
    renderSettings();
  };
  const schedule = () => {
    if (!scheduled) {
      scheduled = true;
      requestAnimationFrame(renderAll);
    }
  };
  fill(
    reactionsBar,
    REACTIONS.map(([reaction, emoji]) => h("button", { class: "reaction", title: Reaction[reaction].toLowerCase(), "data-testid": `react-${Reaction[reaction]}`, onclick: (e) => attempt(session.client.react({ contextId: session.ctx.id, reaction, crowd: session.ctx.isModerator && e.shiftKey })) }, emoji)),
    h("span", { class: "muted hint", "data-testid": "reaction-counts" }, "")
  );
  session.onChange(schedule);
  session.onPush((push) => {
    const body = push.body;
    switch (body.case) {
      case "reactions":
        showReactions(burst, body.value);
        break;
      // The server sends toast: false to users who turned toasts off.
      case "update":
        if (body.value.toast) toast(body.value.title || "Update", body.value.text);
        break;
      case "interaction": {
        const i = body.value;
        if (i.toast && i.status === 2 /* PUBLISHED */) toast(`New ${KIND_LABEL[specOf(i).case ?? "poll"].toLowerCase()}`, titleOf(i));
        break;
      }
      case "peerUpdate": {
        const peer = body.value.peer;
        if (peer?.status === 2 /* REQUEST_RECEIVED */ && !body.value.message && session.priv.settings.toast) {
          toast("Private chat", `${peer.name || peer.userId} wants to connect`);
        }
        break;
      }
    }
  });
  window.plenary = session;
  void session.start();
  schedule();
}
function showReactions(burst, r) {
  const all = [...r.counts.map((c) => ({ ...c, crowd: false })), ...r.crowd.map((c) => ({ ...c, crowd: true }))];
  for (const c of all) {
    const emoji = REACTIONS.find(([k]) => k === c.reaction)?.[1] ?? "";
    for (let n = 0; n < Math.min(c.count, 12); n++) {
      setTimeout(() => {
        const el = h("span", { class: `float${c.crowd ? " crowd" : ""}`, style: `left:${10 + Math.random() * 80}%` }, emoji);
        burst.append(el);
        setTimeout(() => el.remove(), 2e3);
      }, Math.random() * (r.windowMs || 300));
    }
  }
  const counter = document.querySelector(".reactions .hint");
  if (!counter) return;
  counter.textContent = all.map((c) => `${REACTIONS.find(([k]) => k === c.reaction)?.[1]}×${c.count}`).join(" ");
  clearTimeout(Number(counter.dataset.timer));
  counter.dataset.timer = String(setTimeout(() => counter.textContent = "", 3e3));
}
void login();
