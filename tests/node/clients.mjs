// The Vercel AI SDK's default OpenAI provider (the Responses API, `store` on) against the gateway,
// one scenario per run: `node clients.mjs <scenario> <base URL> <API key> <marker word>`. Prints one
// JSON object: what the scenario saw, and the request bodies the SDK sent (`sent`).
import { createOpenAI } from "@ai-sdk/openai";
import { generateText, Output, stepCountIs, streamText, tool } from "ai";
import { z } from "zod";

const [scenario, baseURL, apiKey, word] = process.argv.slice(2);
const sent = [];
const openai = createOpenAI({
  baseURL: `${baseURL}/v1`,
  apiKey,
  fetch: async (url, init) => {
    if (init?.body) sent.push(JSON.parse(init.body));
    return fetch(url, init);
  },
});
const model = openai("gemini-2.5-flash");
const weather = tool({
  description: "Current weather of a city",
  inputSchema: z.object({ city: z.string() }),
  execute: async ({ city }) => ({ temp: 21, city }),
});

const scenarios = {
  // A second turn sends the first answer back as an item_reference.
  async "two-turns"() {
    const ask = { role: "user", content: `${word} hello there` };
    const first = await generateText({ model, messages: [ask], maxRetries: 0 });
    const again = { role: "user", content: `${word} again` };
    const second = streamText({ model, messages: [ask, ...first.response.messages, again], maxRetries: 0 });
    return { first: first.text, second: await second.text };
  },
  // A multi-step tool loop: the text before the call comes back as an item_reference.
  async "tool-loop"() {
    const result = await generateText({
      model,
      prompt: `${word} weather in Paris?`,
      tools: { get_weather: weather },
      stopWhen: stepCountIs(3),
      maxRetries: 0,
    });
    const calls = result.steps.flatMap((step) => step.toolCalls.map((call) => call.toolName));
    return { text: result.text, steps: result.steps.length, calls };
  },
  // toolChoice "required" with Output.object: a forced call and a text format in one request.
  async "forced-with-output"() {
    const result = await generateText({
      model,
      prompt: `${word} weather in Lisbon?`,
      tools: { get_weather: weather },
      toolChoice: "required",
      output: Output.object({ schema: z.object({ summary: z.string() }) }),
      maxRetries: 0,
    });
    return {
      calls: result.toolCalls.map((call) => ({ name: call.toolName, input: call.input })),
      results: result.toolResults.map((item) => item.output),
    };
  },
};

try {
  const seen = await scenarios[scenario]();
  process.stdout.write(JSON.stringify({ ...seen, sent }));
} catch (error) {
  process.stdout.write(JSON.stringify({ error: String(error?.message ?? error), sent }));
  process.exitCode = 1;
}
