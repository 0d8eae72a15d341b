import type { Plan } from '../../plan/types.js';
import type { Io } from '../io.js';
import { renderPlanText } from './text.js';

export const PLAN_FORMATS = ['text', 'json'] as const;
export type PlanFormat = (typeof PLAN_FORMATS)[number];

/** Renderers are pure functions of the plan. */
export function renderPlan(plan: Plan, format: PlanFormat, io: Pick<Io, 'color'>): string {
  switch (format) {
    case 'json':
      return `${JSON.stringify(plan, null, 2)}\n`;
    case 'text':
      return renderPlanText(plan, { color: io.color });
  }
}
