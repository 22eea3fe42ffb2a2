// Topic filter matching (MQTT 4.7) over the bytes of a received topic, in place.

/** True when a topic in buf[start, end) matches the filter's UTF-8 bytes (MQTT 4.7; MQTT-4.7.2-1: a
 *  wildcard first level does not match topics starting with '$'). */
export function topicMatches(f: Uint8Array, buf: Uint8Array, start: number, end: number): boolean {
  "ram";
  const fl = f.length;
  let i = 0;
  let t = start;
  if ((f[0] === 35 || f[0] === 43) && buf[start] === 36) return false;
  // Equal bytes first, one statement each (a received topic holds no wildcards, so they are literal).
  while (i < fl && t < end && f[i] === buf[t]) { i++; t++; }
  while (i < fl) {
    const c = f[i];
    if (c === 35) return true; // '#': the rest, including the parent level (MQTT 4.7.1.2)
    if (c === 43) { // '+': one whole level
      while (t < end && buf[t] !== 47) t++;
      i++;
    } else {
      if (t >= end || buf[t] !== c) {
        // "a/#" also matches "a": the filter's "/#" is all that is left at the topic's end.
        return t === end && c === 47 && i + 2 === fl && f[i + 1] === 35;
      }
      t++;
      i++;
    }
  }
  return t === end;
}
