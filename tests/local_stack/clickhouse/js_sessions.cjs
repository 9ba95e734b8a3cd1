// HTTP sessions through the official JS client (@clickhouse/client): what each session (and a client without
// one) sees of a temporary table and a SET made in session A. Prints one JSON object.
const { createClient } = require("@clickhouse/client");

async function rows(client, query) {
  try {
    return await (await client.query({ query, format: "JSONEachRow" })).json();
  } catch (error) {
    return { error: String(error.message).split("\n")[0] };
  }
}

(async () => {
  const url = process.argv[2];
  const a = createClient({ url, session_id: `js-a-${process.pid}` });
  const b = createClient({ url, session_id: `js-b-${process.pid}` });
  const plain = createClient({ url });
  await a.command({ query: "CREATE TEMPORARY TABLE js_tmp (x UInt8)" });
  await a.insert({ table: "js_tmp", values: [{ x: 7 }, { x: 8 }], format: "JSONEachRow" });
  await a.command({ query: "SET max_threads = 3" });
  const result = {
    a: await rows(a, "SELECT sum(x) AS s, getSetting('max_threads') AS t FROM js_tmp"),
    b: await rows(b, "SELECT count() AS n FROM js_tmp"),
    b_setting: await rows(b, "SELECT getSetting('max_threads') AS t"),
    plain: await rows(plain, "SELECT count() AS n FROM js_tmp"),
  };
  for (const client of [a, b, plain]) await client.close();
  console.log(JSON.stringify(result));
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
