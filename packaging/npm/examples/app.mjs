// The same unmodified app as an ES module: `import` loads twilio through Node's ESM
// loader, which the preload must reach too.
import twilio from "twilio";

const client = twilio(process.env.TWILIO_ACCOUNT_SID, process.env.TWILIO_AUTH_TOKEN);
const conversation = await client.conversations.v1.conversations.create({ uniqueName: process.argv[2] });
console.log(JSON.stringify({ sid: conversation.sid, url: conversation.url }));
