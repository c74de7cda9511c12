"use strict";
// An unmodified app: plain twilio, credentials from the environment, nothing about the
// emulator. Run with `node --require twilio-conversations-emulator/register app.js` its
// requests go to the emulator. It creates a conversation and prints it as JSON.

const twilio = require("twilio");

async function main() {
  const client = twilio(process.env.TWILIO_ACCOUNT_SID, process.env.TWILIO_AUTH_TOKEN);
  const conversation = await client.conversations.v1.conversations.create({ uniqueName: process.argv[2] });
  await client.conversations.v1.conversations(conversation.sid).messages.create({ author: "app", body: "hi" });
  console.log(JSON.stringify({ sid: conversation.sid, url: conversation.url }));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
