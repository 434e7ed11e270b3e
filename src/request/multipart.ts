// multipart/form-data bodies (file uploads, audio transcriptions) carry a random
// boundary, so their bytes differ on every call. They are keyed by their parts
// instead: each field's name and value, each file's name, type and SHA-256.
// Parsing is undici's own (Response.formData), the parser fetch uses.
import { createHash } from 'node:crypto';

export type MultipartPart = { name: string; value: string } | { name: string; filename: string; type: string; bytes_sha256: string };

const MULTIPART = /^multipart\/form-data\b/i;

export function isMultipart(contentType: string | undefined): boolean {
  return contentType !== undefined && MULTIPART.test(contentType);
}

/** The parts of a multipart body, or undefined when it does not parse as one. */
export async function multipartParts(bytes: Buffer, contentType: string): Promise<MultipartPart[] | undefined> {
  let form: FormData;
  try {
    form = await new Response(bytes, { headers: { 'content-type': contentType } }).formData();
  } catch {
    return undefined;
  }
  const parts: MultipartPart[] = [];
  for (const [name, value] of form) {
    if (typeof value === 'string') {
      parts.push({ name, value });
    } else {
      const digest = createHash('sha256').update(Buffer.from(await value.arrayBuffer())).digest('hex');
      parts.push({ name, filename: value.name, type: value.type, bytes_sha256: digest });
    }
  }
  return parts;
}
