// The page's copy of the count expansion must name containers exactly as the planner does.
import { expect, it } from 'vitest';
import { expandedNames } from '../core/topology/naming';
import { expandedContainerNames } from './topology';

it('expands counts exactly like the planner (naming.ts)', () => {
  for (const count of [undefined, 1, 3, 12]) expect(expandedContainerNames('web', count)).toEqual(expandedNames('web', count));
});
