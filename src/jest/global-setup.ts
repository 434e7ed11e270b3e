// jest.config: globalSetup: 'llm-replay/jest/global-setup' (options from llm-replay.config.json and LLM_REPLAY_*).
import { globalSetup } from './index.js';

export default globalSetup();
