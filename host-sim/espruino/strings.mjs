// Espruino's string and byte intrinsics, as the bundle meets them. Measured on Espruino 2v29 Linux
// builds (default, 1,600 and 1,700 JsVars, all alike) with the probes in test/stand-ins.test.mjs
// (`ESPRUINO_BIN=… node --test test/stand-ins.test.mjs` runs them on both and compares):
// - Strings come in two kinds there: binary (one byte a char: "\xe9", data from sockets) and UTF-8
//   (a literal or "\u…" escape with a char ≥ 128). Node has one kind, so the stand-ins call a string
//   UTF-8 when it holds a char above 255: "\u00e9" is UTF-8 on the interpreter but binary here.
// - E.isUTF8(s): whether s is a UTF-8 string: "abc" false, "\xc3\xa9" false, "\xff" false, "\u20ac" true.
// - E.toString(x) of one string returns it unchanged ("a€b" stays 3 chars); of a Uint8Array or array,
//   one char per element, each & 255 ([65, 300] → "A,"). With several arguments every string
//   goes in as its bytes: E.toString("a", 66, [67, 68], "€") → "aBCD\xe2\x82\xac".
// - Uint8Array#set(string, offset) copies the string's bytes (a UTF-8 string's UTF-8 encoding:
//   "A\u00ff\u20ac" → 41 c3 bf e2 82 ac) and, like every Espruino set(), truncates at the array's
//   end instead of throwing.
// - E.asUTF8("\xc3\xa9") → "é" (1 char); bytes that are not UTF-8 stay as they are ("\xff" → "\xff").
// - E.getFlags() lists the interpreter's flags as 0 or 1; E.setFlags({name: value}) sets the ones given
//   (true → 1) and ignores undefined.
// - There is no Buffer.
import zlib from "node:zlib";

/** A string's bytes as the interpreter holds them: UTF-8 for a string with a char above 255, else one byte a char. */
export const bytesOf = (s) => (/[^\u0000-\u00ff]/.test(s) ? Buffer.from(s, "utf8") : Buffer.from(s, "latin1"));

/** Decodes a binary string's UTF-8 sequences; bytes that are not part of one stay as they are. */
function asUTF8(s) {
  let out = "";
  for (let i = 0; i < s.length; ) {
    const b = s.charCodeAt(i);
    const n = b >= 0xf0 && b < 0xf8 ? 3 : b >= 0xe0 ? 2 : b >= 0xc0 ? 1 : 0;
    let cp = n === 3 ? b & 7 : n === 2 ? b & 15 : b & 31;
    let ok = n > 0 && i + n < s.length;
    for (let k = 1; ok && k <= n; k++) {
      const c = s.charCodeAt(i + k);
      if ((c & 0xc0) !== 0x80) ok = false;
      else cp = (cp << 6) | (c & 63);
    }
    if (ok) { out += String.fromCodePoint(cp); i += n + 1; } else { out += s[i]; i++; }
  }
  return out;
}

/** Installs E's string functions, atob/btoa and Espruino's Uint8Array#set(string) in `context`. */
export function installStrings(context, vm) {
  vm.runInContext(`(function () {
    var set = Uint8Array.prototype.set;
    Object.defineProperty(Uint8Array.prototype, "set", { configurable: true, writable: true, value: function (src, offset) {
      offset = offset | 0;
      if (typeof src === "string") src = __bytes(src);
      var n = Math.min(src.length, this.length - offset); // Espruino truncates instead of throwing
      if (n <= 0) return;
      return set.call(this, n < src.length ? (src.subarray ? src.subarray(0, n) : Array.prototype.slice.call(src, 0, n)) : src, offset);
    }});
  })()`, context);
  const U8 = vm.runInContext("Uint8Array", context);
  context.__bytes = (s) => new U8(bytesOf(s));
  const charsOf = (a) => {
    if (typeof a === "string") return bytesOf(a).toString("latin1");
    if (typeof a === "number") return String.fromCharCode(a & 255);
    let out = "";
    for (let i = 0; i < a.length; i++) out += String.fromCharCode(a[i] & 255);
    return out;
  };
  // E.getFlags() / E.setFlags(): Espruino's interpreter flags (2v29's names); setFlags takes the ones
  // given as 0 or 1 and ignores undefined. pretokenise changes nothing here (no function text to store).
  const flags = { deepSleep: 0, unsafeFlash: 0, unsyncFiles: 0, pretokenise: 0, jitDebug: 0, onErrorSave: 0, onErrorFlash: 0 };
  context.E = {
    getFlags: () => vm.runInContext("(function (f) { return JSON.parse(f); })", context)(JSON.stringify(flags)),
    setFlags: (set) => { for (const k of Object.keys(set || {})) if (k in flags && set[k] !== undefined) flags[k] = set[k] ? 1 : 0; },
    toString: (...args) => (args.length === 1 && typeof args[0] === "string" ? args[0] : args.map(charsOf).join("")),
    toUint8Array: (s) => new U8(bytesOf(typeof s === "string" ? s : String(s))),
    isUTF8: (s) => /[^\u0000-\u00ff]/.test(s),
    asUTF8,
    fromUTF8: (s) => Buffer.from(s, "utf8").toString("latin1"),
    getSizeOf: () => 0,
    CRC32: (s) => zlib.crc32(typeof s === "string" ? Buffer.from(s, "latin1") : Buffer.from(s)),
  };
  context.atob = (s) => Buffer.from(s, "base64").toString("latin1");
  context.btoa = (s) => Buffer.from(s, "latin1").toString("base64");
  return U8;
}
