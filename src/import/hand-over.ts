import type { HandedOver, KeptResource } from './terraform-import.js';

/**
 * The hand-over from Terraform to ecfence, as text to follow and copy (pure). Terraform must stop
 * managing what ecfence now declares without destroying it: the imported resources leave its state
 * (`terraform state rm`, or `removed` blocks with `destroy = false` from Terraform 1.7), and the
 * resources that stay (deployments, projects) stop writing associations (`ignore_changes`).
 * Explanations are `#` lines, a comment in both shell and HCL.
 */

/** One shell word: single quotes, a quote inside written as '\''. Addresses hold `"`, `[`, `$`. */
export function shellQuoted(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

export interface HandOverInput {
  /** What ecfence took over (already without what was not declared). */
  handOver: readonly HandedOver[];
  keep: readonly KeptResource[];
  /** The environments the files declare, for the check before. */
  environments: readonly string[];
}

export function renderHandOver(input: HandOverInput): string {
  const envs = input.environments.map((e) => `--env ${e}`).join(' ');
  const lines: string[] = [];
  if (input.handOver.length === 0 && input.keep.length === 0) {
    return '# Nothing to hand over: the state holds no traffic filter ecfence imported.\n';
  }
  let step = 1;
  lines.push(
    '# Hand-over from Terraform to ecfence: nothing is destroyed, nothing changes in Elastic Cloud.',
    `# ${step++}. Check first: \`ecfence plan ${envs}\` reports no changes.`,
  );
  if (input.handOver.length > 0) {
    const addresses = [...new Set(input.handOver.map((h) => h.address))];
    lines.push(
      `# ${step++}. Remove the ${addresses.length} imported resource(s) from the Terraform state, then delete their`,
      '#    resource blocks and every reference to them:',
      ...addresses.map((a) => `terraform state rm ${shellQuoted(a)}`),
      '#    Or, with Terraform 1.7 or later, replace their resource blocks with these blocks and run',
      '#    `terraform apply` (a block stands for every instance of its resource):',
    );
    for (const from of [...new Set(input.handOver.map((h) => h.resourceAddress))]) {
      lines.push('removed {', `  from = ${from}`, '  lifecycle {', '    destroy = false', '  }', '}');
    }
  }
  if (input.keep.length > 0) {
    lines.push(
      `# ${step}. These resources stay in Terraform, but their associations are ecfence's now: add the line to`,
      '#    each resource block, or the next `terraform apply` undoes what ecfence attaches:',
    );
    for (const k of input.keep) {
      lines.push(`#      ${k.address}:  lifecycle { ignore_changes = [${k.attribute}] }`);
    }
  }
  lines.push('# Then `terraform plan` shows nothing to destroy, and ecfence owns these traffic filters.');
  return `${lines.join('\n')}\n`;
}
