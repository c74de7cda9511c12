"""Keep-alive client for benches/callgrind/run.sh: creates a conversation with 60
messages, then sends N requests of one kind (fetch, list, update or create) on one connection.
With PAGE=1, a live inspector page (a reader of /_emulator/events) is connected throughout."""
import http.client, sys, base64, json, time, os, socket, threading
port=int(sys.argv[1]); n=int(sys.argv[2]); mode=sys.argv[3]
auth="Basic "+base64.b64encode(b"AC00000000000000000000000000000001:token").decode()
for _ in range(200):
    try:
        c=http.client.HTTPConnection("127.0.0.1",port); c.connect(); break
    except OSError: time.sleep(0.05)
if os.environ.get("PAGE")=="1":
    page=socket.create_connection(("127.0.0.1",port))
    page.sendall(b"GET /_emulator/events HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n")
    threading.Thread(target=lambda: [None for _ in iter(lambda: page.recv(65536), b"")], daemon=True).start()
H={"Authorization":auth,"Content-Type":"application/x-www-form-urlencoded"}
def req(m,p,body=None):
    c.request(m,p,body=body,headers=H); r=c.getresponse(); d=r.read(); assert r.status<300,(r.status,d); return d
ch=json.loads(req("POST","/v1/Conversations","FriendlyName=x"))["sid"]
sids=[json.loads(req("POST",f"/v1/Conversations/{ch}/Messages","Author=alice&Body=hello+world+this+is+a+benchmark+message+of+typical+size+abc"))["sid"] for _ in range(60)]
if mode=="fetch":
    p=f"/v1/Conversations/{ch}/Messages/{sids[0]}"
    for _ in range(n): req("GET",p)
elif mode=="list":
    p=f"/v1/Conversations/{ch}/Messages?PageSize=50"
    for _ in range(n): req("GET",p)
elif mode=="update":
    p=f"/v1/Conversations/{ch}/Messages/{sids[0]}"
    for i in range(n): req("POST",p,f"Body=edited+{i}")
elif mode=="create":
    for _ in range(n): req("POST",f"/v1/Conversations/{ch}/Messages","Author=alice&Body=hello+world")
