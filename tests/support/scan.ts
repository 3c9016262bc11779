import { createSecretlintScanner } from '../../tasks/CodeSynthesis/src/adapters/scan/secretlint-scanner';
import type { FileToWrite } from '../../tasks/CodeSynthesis/src/core/ports';
import { scanFiles, type ScanReport } from '../../tasks/CodeSynthesis/src/core/scan';
import { builtInRules } from '../../tasks/CodeSynthesis/src/core/scan-stage';

/** The whole scanner as a run uses it, without organisation rules. */
export function scanAll(files: readonly FileToWrite[], maxFileBytes = 1024 * 1024): Promise<ScanReport> {
  return scanFiles(files, {
    rules: builtInRules(maxFileBytes),
    secrets: createSecretlintScanner(),
  });
}

/** The seed article's generated sample: line 6 hard-codes the placeholder key. */
export const SEED_FLASK_APP = `from flask import Flask, request, jsonify
import requests
app = Flask(__name__)
@app.route('/weather/<city>')
def get_weather(city):
    api_key = 'YOUR_API_KEY'
    resp = requests.get(f'https://api.openweathermap.org/data/2.5/weather?q={city}&appid={api_key}')
    return jsonify(resp.json)
if __name__ == '__main__':
    app.run(host='0.0.0.0', port=8080)
`;
