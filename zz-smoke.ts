import { planLab } from './src-main/core/topology/planner';
import { contextFor, specOf } from './src-main/core/topology/planner.test-support';
const spec = specOf({ name: 'demo', hosts: ['h1','h2'], networks: [{name:'ov', mode:'vxlan'}, {name:'br', mode:'bridge'}, {name:'n', mode:'nat', options:{publish:[80]}}, {name:'mv', mode:'macvlan'}], containers: [{name:'c1', host:'h1', networks:['ov','br']}, {name:'c2', host:'h2', networks:['ov']}, {name:'c3', host:'h1', shareNetnsWith:'c1'}, {name:'w', host:'h1', count:2, networks:['n','mv']}] });
try { const plan = planLab(spec, contextFor(['h1','h2'])); console.log(JSON.stringify(plan, null, 1)); } catch (e) { console.log(String(e)); }
