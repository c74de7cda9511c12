"""Keep-alive client for benches/callgrind/run.sh: creates a conversation with 60
messages, then sends N requests of one kind (fetch, list, update or create) on one connection."""
import http.client, sys, base64, json, time
port=int(sys.argv[1]); n=int(sys.argv[2]); mode=sys.argv[3]
auth="Basic "+base64.b64encode(b"AC00000000000000000000000000000001:token").decode()
for _ in range(200):
    try:
        c=http.client.HTTPConnection("127.0.0.1",port); c.connect(); break
    except OSError: time.sleep(0.05)
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
