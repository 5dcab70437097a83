// cnlab's version, recorded in runs and bundles; kept in step with package.json by a unit test.
export const CNLAB_VERSION = '0.1.0';
