// Incremental decoder of the `rt=c` response framing: ")]}'" then frames "<len>\n<json>\n" where
// len counts UTF-16 code units (JavaScript string length) from the newline after the digits
// through the newline after the JSON. Frames may be split across progress events.

export class FramingError extends Error {}

export class FrameReader {
  constructor() {
    this.pos = 0;
    this.started = false;
  }

  // `text` is the whole body received so far; returns the frames completed since the last call.
  read(text) {
    const frames = [];
    if (!this.started) {
      if (text.length < 4) return frames;
      if (!text.startsWith(")]}'")) throw new FramingError("missing )]}' guard");
      this.pos = 4;
      this.started = true;
    }
    for (;;) {
      let start = this.pos;
      while (start < text.length && /\s/.test(text[start])) start++;
      let end = start;
      while (end < text.length && text.charCodeAt(end) >= 48 && text.charCodeAt(end) <= 57) end++;
      if (end >= text.length) break;
      if (end === start) throw new FramingError(`expected a frame length at ${start}`);
      const length = Number(text.slice(start, end));
      if (text.length < end + length) break;
      const body = text.slice(end, end + length);
      try {
        frames.push(JSON.parse(body));
      } catch (error) {
        throw new FramingError(`frame at ${start} is not JSON: ${error.message}`);
      }
      this.pos = end + length;
    }
    return frames;
  }

  // True when nothing but whitespace is left unread.
  drained(text) {
    return text.slice(this.pos).trim() === "";
  }
}
