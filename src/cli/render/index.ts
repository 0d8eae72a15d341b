import type { Plan } from '../../plan/types.js';
import { toSafeJson } from '../../secrets/untrusted-text.js';
import type { Io } from '../io.js';
import { renderPlanMarkdown } from './markdown.js';
import { renderPlanText } from './text.js';

export const PLAN_FORMATS = ['text', 'markdown', 'json'] as const;
export type PlanFormat = (typeof PLAN_FORMATS)[number];

/** Renderers are pure functions of the plan. */
export function renderPlan(plan: Plan, format: PlanFormat, io: Pick<Io, 'color'>): string {
  switch (format) {
    case 'json':
      // Byte for byte what `--out` writes (SPEC §5): one format for tools and for `apply`.
      return toSafeJson(plan);
    case 'markdown':
      return renderPlanMarkdown(plan);
    case 'text':
      return renderPlanText(plan, { color: io.color });
  }
}
