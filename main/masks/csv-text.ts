/**
 * Minimal RFC-4180 CSV reading: quoted fields with doubled quotes, CRLF or LF line ends,
 * a trailing newline or not. Pure text in, rows out; every row keeps its 1-based line number
 * so errors can name `file:line`.
 */
import { InputError } from '../core/errors';

export interface CsvRow {
  /** 1-based line on which the row starts. */
  line: number;
  fields: string[];
}

const SPECIAL = new Set([',', '"', '\r', '\n']);

export function parseCsvRows(text: string, where: string): CsvRow[] {
  const rows: CsvRow[] = [];
  const src = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text; // tolerate a UTF-8 BOM
  let line = 1;
  let rowLine = 1;
  let fields: string[] = [];
  let field = '';
  let i = 0;
  let atFieldStart = true;
  const endRow = (): void => {
    fields.push(field);
    // A blank line is no row (a file ending in a newline, or blank lines a spreadsheet left behind).
    if (!(fields.length === 1 && fields[0] === '')) rows.push({ line: rowLine, fields });
    fields = [];
    field = '';
    atFieldStart = true;
  };
  while (i < src.length) {
    const c = src[i]!;
    if (atFieldStart && c === '"') {
      // Quoted field: runs to the closing quote; "" inside is one quote; newlines allowed.
      const openLine = line;
      i++;
      for (;;) {
        if (i >= src.length) throw new InputError(`${where}:${openLine}`, 'quoted field is never closed');
        const q = src[i]!;
        if (q === '"') {
          if (src[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        if (q === '\n') line++;
        field += q;
        i++;
      }
      const next = src[i];
      if (next !== undefined && next !== ',' && next !== '\n' && next !== '\r') {
        throw new InputError(`${where}:${line}`, `unexpected '${next}' after a closing quote`);
      }
      atFieldStart = false;
      continue;
    }
    if (c === ',') {
      fields.push(field);
      field = '';
      atFieldStart = true;
      i++;
    } else if (c === '\r' || c === '\n') {
      endRow();
      i += c === '\r' && src[i + 1] === '\n' ? 2 : 1;
      line++;
      rowLine = line;
    } else {
      if (c === '"') throw new InputError(`${where}:${line}`, 'a quote inside an unquoted field');
      // Take the whole unquoted stretch at once: train.csv has ~115,000 rows.
      let j = i + 1;
      while (j < src.length && !SPECIAL.has(src[j]!)) j++;
      field += src.slice(i, j);
      atFieldStart = false;
      i = j;
    }
  }
  if (field !== '' || fields.length > 0) endRow();
  return rows;
}

/** Quote a field only when it needs it (comma, quote or line break inside). */
export function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}
