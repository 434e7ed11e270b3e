// The latest drift report on disk, where the inspector finds it, read back and
// checked against the report's schema once, here.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import Value from 'typebox/value';
import { DriftCheckError } from '../errors.js';
import { writeAtomically } from '../recordings/atomic-write.js';
import { DriftReport } from './report.js';

/** The report as JSON text, as --json prints it and the file holds it. */
export const reportText = (report: DriftReport): string => `${JSON.stringify(report, null, 2)}\n`;

/** Where `drift` keeps its latest report for the inspector: in the state directory, beside the upstream ids and usage files. */
export function driftReportPath(stateDir: string): string {
  return path.join(stateDir, 'drift-report.json');
}

/** Keeps the report as the latest, replacing the one before at once (never half-written). */
export async function saveDriftReport(stateDir: string, report: DriftReport): Promise<void> {
  await writeAtomically(driftReportPath(stateDir), reportText(report));
}

/** A report file, checked; a file that is not one is a DriftCheckError naming the file and what is wrong. */
export async function readDriftReport(file: string): Promise<DriftReport> {
  const text = await readFile(file, 'utf8');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new DriftCheckError(`${file} is not JSON (${(error as Error).message}); run llm-replay drift again to write a new report`);
  }
  const [first] = Value.Errors(DriftReport, value);
  if (first) throw new DriftCheckError(`${file} is not a drift report: at "${first.instancePath || '/'}", ${first.message}; run llm-replay drift again to write a new report`);
  return value as DriftReport;
}
