import { randomBytes } from 'node:crypto';
import type { Request, Response } from 'express';
import { CreateStudySchema, TwinfedError, type StudyView } from '@twinfed/shared';
import type { Study } from '../../store';
import { actorOf } from '../auth';
import { idParam, jsonBody } from '../body';
import type { HttpDeps } from '../deps';
import { visibleStudies } from '../study-scope';

function studyView(s: Study): StudyView {
  return { id: s.id, name: s.name, description: s.description, createdAt: s.createdAt };
}

/** Handlers for studies: operators create them; operators and researchers read them (a researcher: its own). */
export function studyHandlers(deps: HttpDeps) {
  return {
    create: async (req: Request, res: Response) => {
      const body = jsonBody(req, CreateStudySchema);
      const slug =
        body.name
          .toLowerCase()
          .replace(/[^a-z0-9]+/g, '-')
          .replace(/^-|-$/g, '')
          .slice(0, 40) || 'study';
      const id = `study-${slug}-${randomBytes(3).toString('hex')}`;
      const at = new Date(deps.now()).toISOString();
      const created = await deps.store.createStudy(
        { id, name: body.name, description: body.description ?? null, createdAt: at },
        { at, actor: actorOf(req), action: 'study.create', subject: id, detail: { name: body.name } },
      );
      res.status(201).json(studyView(created));
    },
    list: async (req: Request, res: Response) => {
      res.json({ studies: (await visibleStudies(req, deps)).map(studyView) });
    },
    /** The router's study scope has already refused a study outside a researcher's scope. */
    get: async (req: Request, res: Response) => {
      const study = await deps.store.getStudy(idParam(req, 'studyId'));
      if (!study) throw new TwinfedError('UNKNOWN_STUDY');
      res.json(studyView(study));
    },
  };
}
