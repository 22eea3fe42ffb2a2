// Espruino's Storage module (flash files), kept by a simulated board across boots and power cycles.
// Tests read and write it with the same calls the board's code makes: storage.read(name), .write(name, data).

/** A board's Storage: the object require("Storage") returns, files held as binary strings. */
export function createStorage() {
  const files = new Map();
  const storage = {
    /** Called with a file's name before it is written (the simulated board watches its boot code). */
    onWrite: null,
    /** The file's contents, or undefined. */
    read: (name) => files.get(name),
    readJSON(name, noExceptions) {
      const s = files.get(name);
      if (s === undefined) return undefined;
      try { return JSON.parse(s); } catch (e) { if (noExceptions) return undefined; throw e; }
    },
    /** Espruino's Storage.write: with `offset`, writes into a file created by the first call, whose
     *  `size` fixes the file's length (the tools upload large files in chunks this way). */
    write(name, data, offset, size) {
      if (storage.onWrite) storage.onWrite(name);
      data = typeof data === "string" ? data : String(data);
      if (offset === undefined) { files.set(name, data); return true; }
      const f = size !== undefined ? "\xff".repeat(size) : files.get(name);
      if (f === undefined || offset + data.length > f.length) throw new Error("Storage: write past the end of the file");
      files.set(name, f.slice(0, offset) + data + f.slice(offset + data.length));
      return true;
    },
    writeJSON(name, data) { files.set(name, JSON.stringify(data)); return true; },
    erase(name) { files.delete(name); },
    list: () => [...files.keys()],
  };
  return storage;
}
