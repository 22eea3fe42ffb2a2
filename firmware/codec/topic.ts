// Topic filter matching (MQTT 4.7), level by level with the interpreter's native string search.

/** True when topic name `t` matches filter `f` (MQTT 4.7; MQTT-4.7.2-1: a wildcard first level does not
 *  match topics starting with '$'). Both are byte strings (UTF-8 bytes, one char a byte) or both text. */
export function topicMatches(f: string, t: string): boolean {
  "ram";
  // A topic holds no wildcards: a filter equal to it is plain, and matches.
  if (f === t) return true;
  const c0 = f.charCodeAt(0);
  if ((c0 === 35 || c0 === 43) && t.charCodeAt(0) === 36) return false;
  let i = 0;
  let j = 0;
  for (;;) {
    let fe = f.indexOf("/", i);
    if (fe < 0) fe = f.length;
    let te = t.indexOf("/", j);
    if (te < 0) te = t.length;
    const c = f.charCodeAt(i);
    if (fe === i + 1 && c === 35) return true; // '#': the rest, including the parent level (MQTT 4.7.1.2)
    // '+' is one whole level, any other level is equal bytes.
    if (!(fe === i + 1 && c === 43) && (fe - i !== te - j || f.substring(i, fe) !== t.substring(j, te))) return false;
    if (fe === f.length) return te === t.length;
    if (te === t.length) return f.substring(fe + 1) === "#"; // "a/#" also matches "a"
    i = fe + 1;
    j = te + 1;
  }
}
