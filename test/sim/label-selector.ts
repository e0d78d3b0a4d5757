// Kubernetes label selectors in their string form (`app=api,tier!=db,env in (a,b),!legacy`).

type Requirement =
  | { op: 'eq' | 'ne'; key: string; value: string }
  | { op: 'in' | 'notin'; key: string; values: string[] }
  | { op: 'exists' | 'notexists'; key: string };

export function parseLabelSelector(selector: string): Requirement[] {
  const requirements: Requirement[] = [];
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const char of selector) {
    if (char === '(') depth += 1;
    if (char === ')') depth -= 1;
    if (char === ',' && depth === 0) {
      parts.push(current);
      current = '';
    } else current += char;
  }
  parts.push(current);
  for (const raw of parts.map((p) => p.trim()).filter(Boolean)) {
    const set = /^(\S+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(raw);
    if (set) {
      const values = (set[3] ?? '')
        .split(',')
        .map((v) => v.trim())
        .filter(Boolean);
      requirements.push({ op: set[2] === 'in' ? 'in' : 'notin', key: set[1] ?? '', values });
      continue;
    }
    const ne = /^([^=!\s]+)\s*!=\s*(\S*)$/.exec(raw);
    if (ne) {
      requirements.push({ op: 'ne', key: ne[1] ?? '', value: ne[2] ?? '' });
      continue;
    }
    const eq = /^([^=!\s]+)\s*==?\s*(\S*)$/.exec(raw);
    if (eq) {
      requirements.push({ op: 'eq', key: eq[1] ?? '', value: eq[2] ?? '' });
      continue;
    }
    if (raw.startsWith('!')) {
      requirements.push({ op: 'notexists', key: raw.slice(1).trim() });
      continue;
    }
    if (/^\S+$/.test(raw)) {
      requirements.push({ op: 'exists', key: raw });
      continue;
    }
    throw new Error(`invalid label selector "${selector}": cannot parse "${raw}"`);
  }
  return requirements;
}

export function matchesLabelSelector(
  selector: string | undefined,
  labels: Readonly<Record<string, string>> | undefined,
): boolean {
  if (!selector) return true;
  const own = labels ?? {};
  return parseLabelSelector(selector).every((r) => {
    const value = own[r.key];
    switch (r.op) {
      case 'eq':
        return value === r.value;
      case 'ne':
        return value !== r.value;
      case 'in':
        return value !== undefined && r.values.includes(value);
      case 'notin':
        return value === undefined || !r.values.includes(value);
      case 'exists':
        return value !== undefined;
      case 'notexists':
        return value === undefined;
    }
  });
}
