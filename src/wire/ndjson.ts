// Newline-delimited JSON (Ollama's native streams): one object per line.

export class NdjsonSplitter {
  private buffer = '';
  private readonly decoder = new TextDecoder('utf-8');

  /** Feeds bytes; returns the complete lines (with their newline) they finish. */
  push(chunk: Uint8Array): string[] {
    this.buffer += this.decoder.decode(chunk, { stream: true });
    const lines: string[] = [];
    let newline = this.buffer.indexOf('\n');
    while (newline >= 0) {
      lines.push(this.buffer.slice(0, newline + 1));
      this.buffer = this.buffer.slice(newline + 1);
      newline = this.buffer.indexOf('\n');
    }
    return lines;
  }

  /** Ends the stream; returns a last line that had no newline. */
  end(): string[] {
    this.buffer += this.decoder.decode();
    const rest = this.buffer;
    this.buffer = '';
    return rest.trim() === '' ? [] : [rest];
  }
}
