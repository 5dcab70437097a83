// Container mode (a pod): the container joins its owner's namespace and creates nothing; it shows the
// owner's namespace and interfaces, because that is what its processes see.
import type { PlannedContainer } from '../plan';
import type { LabContainer } from './common';

export function sharingContainer(container: LabContainer, owner: PlannedContainer): PlannedContainer {
  return {
    name: container.name,
    host: container.host,
    netns: owner.netns,
    sharesWith: owner.name,
    cpuset: container.cpuset,
    interfaces: owner.interfaces.map((entry) => ({ ...entry })),
  };
}
