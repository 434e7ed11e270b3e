// GET /_llm-replay/api/drift: the latest drift report (`llm-replay drift` keeps it in
// the state folder), checked when read; with ?file=, that recording's recorded and
// live shapes lined up side by side. Read-only. No report yet, or a file that is not
// one, is said in the answer for the page to show, not an error of the request.
import path from 'node:path';
import type { FastifyPluginAsync } from 'fastify';
import Type, { type Static } from 'typebox';
import { AnswerError } from '../../errors.js';
import type { AnswerShape } from '../../drift/report.js';
import { driftReportPath, readDriftReport } from '../../drift/report-file.js';
import { sideBySide } from '../../json/side-by-side.js';
import type { DriftView } from './contract.js';

interface DriftApiOptions {
  stateDir: string;
  /** The server's recordings directory: a report of another one is said to be so. */
  recordingsDir: string;
}

/** A shape as a person reads it: each path's types as one string ("null|string"). */
function readable(shape: AnswerShape): unknown {
  const paths = (types: Record<string, string[]>) => Object.fromEntries(Object.entries(types).map(([path, list]) => [path, list.join('|')]));
  const { body, kinds, ...rest } = shape;
  return { ...rest, ...(body ? { body: paths(body) } : {}), ...(kinds ? { kinds: Object.fromEntries(Object.entries(kinds).map(([kind, types]) => [kind, paths(types)])) } : {}) };
}

const query = Type.Object({ file: Type.Optional(Type.String({ minLength: 1 })) });

export const driftApi: FastifyPluginAsync<DriftApiOptions> = async (app, { stateDir, recordingsDir }) => {
  const file = driftReportPath(stateDir);
  const route = { schema: { querystring: query }, config: { invalid: { code: 'llm_replay_bad_inspector_query' } as const } };
  app.get<{ Querystring: Static<typeof query> }>('/api/drift', route, async (request): Promise<DriftView> => {
    let view: DriftView;
    try {
      view = { path: file, report: await readDriftReport(file) };
      if (view.report!.recordingsDir !== path.resolve(recordingsDir)) view.serverDir = path.resolve(recordingsDir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { path: file };
      return { path: file, problem: (error as Error).message };
    }
    const wanted = request.query.file;
    if (wanted === undefined) return view;
    const drifted = view.report?.drifted.find((one) => one.file === wanted);
    if (!drifted) throw new AnswerError('llm_replay_no_such_recording', `the drift report ${file} names no drifted recording ${JSON.stringify(wanted)}`, 'file');
    return { ...view, shapes: sideBySide(readable(drifted.recorded), readable(drifted.live)) };
  });
};
