// Serverless variable source: `${file(infra/aws/config-json.cjs)}` gives the task config as one JSON string,
// for the CDC container's FERRY_CONFIG_JSON. The same file is packaged with the Lambda functions, so the
// functions and the CDC worker always run one config. FERRY_TASK_CONFIG picks another file.
const { readFileSync } = require('node:fs');
const { resolve } = require('node:path');

module.exports = () => {
  const file = resolve(__dirname, '../..', process.env.FERRY_TASK_CONFIG || 'infra/aws/task-config.json');
  return JSON.stringify(JSON.parse(readFileSync(file, 'utf8')));
};
