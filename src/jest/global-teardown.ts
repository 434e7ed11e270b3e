// jest.config: globalTeardown: 'llm-replay/jest/global-teardown'.
import { globalTeardown } from './index.js';

export default globalTeardown;
