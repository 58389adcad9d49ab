// .NET wire-compatibility client for the esign server.
//
// Written the way the vendor's REST examples are: typed classes, HttpWebRequest with the raw
// secret in the Authorization header, and System.Web.Script.Serialization.JavaScriptSerializer
// to write requests and Deserialize<T> responses. If this program passes, an integrator's
// existing C# code works against the server with only the host name changed.
//
// Usage: mono EsignClient.exe <baseUrl> <apiKey> <adminUsername> [pdfPath]
// Prints "OK <step>" per step; on the first failure prints "FAIL <step>: ..." and exits 1.
//
// Mono's JavaScriptSerializer is laxer than .NET Framework's (it turns null into 0 for an int
// member, accepts "/Date()/" without the escaped slash). So each successful response is also
// checked against the typed classes the way .NET would read it (see StrictJson).

using System;
using System.Collections;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net;
using System.Reflection;
using System.Text;
using System.Text.RegularExpressions;
using System.Threading;
using System.Web.Script.Serialization;

// ---------------------------------------------------------------------------------------------
// Data classes (reference §3). Property names are the JSON names.
// ---------------------------------------------------------------------------------------------

public enum Authentication { None = 0, Password = 1, KBA = 2, KBAPlusPassword = 3, SMS = 4 }

public class Session
{
    public string Id { get; set; }
    public string SigningSessionId { get; set; }
    public SessionInfo SessionInfo { get; set; }
    public List<Document> Documents { get; set; }
    public List<Signer> Signers { get; set; }
}

public class SessionInfo
{
    public string Id { get; set; }
    public string SigningSessionId { get; set; }
    public bool AllowDelegation { get; set; }
    public string ClientID { get; set; }
    public string CopyTo { get; set; }
    public string Description { get; set; }
    public int EmailOptions { get; set; }
    public bool FirstSigner { get; set; }
    public string OwnerID { get; set; }
    public string OwnerName { get; set; }
    public string OwnerEmail { get; set; }
    public string OwnerSignature { get; set; }
    public string Password { get; set; }
    public string ReturnURL { get; set; }
    public string Title { get; set; }
    public string TransactionId { get; set; }
    public int UseSequence { get; set; }
    public DateTime ExpiresOn { get; set; }
    public int ReminderFrequencyDays { get; set; }
    public bool SendSignerInvites { get; set; }
    public string SendSessionRedirectUrl { get; set; }
    public string ApplicationKey { get; set; }
    public bool RemoveUnassignedSignerRoles { get; set; }
    // Output-only. Nullable so a request does not carry DateTime.MinValue, and because a
    // session has no CompletedOn until it completes.
    public int StatusCode { get; set; }
    public int Status { get; set; }  // the same number: a name here would throw for int
    public DateTime? CreatedOn { get; set; }
    public DateTime? CompletedOn { get; set; }
}

public class Document
{
    public string DocumentId { get; set; }
    public string FileName { get; set; }
    public byte[] FileBytes { get; set; }
    public string FormId { get; set; }
    public string FormTag { get; set; }
    public int Sequence { get; set; }
    public bool HasAnchorTags { get; set; }
    public string AnchorTagsAdjustmentCategory { get; set; }
    // Output-only (contract §4 "Session in responses").
    public int PageCount { get; set; }
    public string ProcessingStatus { get; set; }
    public List<string> ProcessingErrors { get; set; }
    public List<Field> Fields { get; set; }
}

// Field.Items is left out: the contract does not fix its JSON shape, and unknown members are
// ignored by JavaScriptSerializer.
public class Field
{
    public string FieldId { get; set; }
    public string Type { get; set; }
    public string Option { get; set; }
    public string Role { get; set; }
    public string SignerId { get; set; }
    public int PageNumber { get; set; }
    public double X { get; set; }
    public double Y { get; set; }
    public double Width { get; set; }
    public double Height { get; set; }
    public double FontSize { get; set; }
    public string Value { get; set; }
}

public class Signer
{
    public string SignerId { get; set; }
    public string FirstName { get; set; }
    public string LastName { get; set; }
    public string EmailAddress { get; set; }
    public string SignerRole { get; set; }
    public int Sequence { get; set; }
    public AuthenticationSettings AuthenticationSettings { get; set; }
    public Authentication AuthMethod { get; set; }
    public List<Authentication> AuthMethods { get; set; }
    public List<KeyValue> Properties { get; set; }
    public string SigningSessionId { get; set; }
    public string FullName { get; set; }
    public string SignerEmailSubject { get; set; }
    public string SignerEmailMessage { get; set; }
    public Dictionary<string, string> MergeFieldMapping { get; set; }
    public string SignatureImageBase64 { get; set; }
    public string InitialsImageBase64 { get; set; }
    public bool AutoApplySignature { get; set; }
    public bool MandateDocUpload { get; set; }
    public int StateCode { get; set; }
    public int StatusCode { get; set; }
    public string DeclinedReason { get; set; }
}

// KeyValuePair<,> has no setters, so JavaScriptSerializer cannot read it back: a small class.
public class KeyValue
{
    public string Key { get; set; }
    public string Value { get; set; }
}

public class AuthenticationSettings
{
    public string Password { get; set; }
    public bool InPerson { get; set; }
    public string SMSPhoneNumber { get; set; }
}

public class RequestResponse
{
    public string Message { get; set; }
    public List<string> Details { get; set; }
    public string ReturnValue { get; set; }
    public List<string> ErrorCodes { get; set; }
}

public class SessionResponse : RequestResponse
{
    // A Guid as in the vendor example (sessionResponse.SigningSessionId.ToString()).
    public Guid SigningSessionId { get; set; }
    public List<Session> Sessions { get; set; }
}

public class SessionInfoLite
{
    public string SigningSessionId { get; set; }
    public string Title { get; set; }
    public string TransactionId { get; set; }
    public int StatusCode { get; set; }
    public DateTime CreatedOn { get; set; }
}

public class ResponseSessionInfoLiteView : RequestResponse
{
    public List<SessionInfoLite> Sessions { get; set; }
    public int TotalCount { get; set; }
}

// ---------------------------------------------------------------------------------------------
// The flow.
// ---------------------------------------------------------------------------------------------

public class CompatFailure : Exception
{
    public CompatFailure(string message) : base(message) { }
}

public static class EsignClient
{
    static string baseUrl;
    static string apiKey;
    static string userName;
    static string step = "Startup";
    static readonly JavaScriptSerializer serializer = new JavaScriptSerializer { MaxJsonLength = int.MaxValue };

    const string Salt = "compat2024salt";
    const string ReturnUrl = "https://integrator.example.com/return";

    public static int Main(string[] args)
    {
        if (args.Length < 3 || args.Length > 4)
        {
            Console.Error.WriteLine("usage: EsignClient.exe <baseUrl> <apiKey> <adminUsername> [pdfPath]");
            return 2;
        }
        // The vendor examples build URLs as host + "rest/v1/...".
        baseUrl = args[0].EndsWith("/") ? args[0] : args[0] + "/";
        apiKey = args[1];
        userName = args[2];
        byte[] pdf = args.Length == 4 ? File.ReadAllBytes(args[3]) : MinimalPdf();
        try
        {
            Run(pdf);
            return 0;
        }
        catch (CompatFailure e)
        {
            Console.Out.Flush();
            Console.Error.WriteLine("FAIL " + step + ": " + e.Message);
            return 1;
        }
        catch (Exception e)
        {
            Console.Out.Flush();
            Console.Error.WriteLine("FAIL " + step + ": unexpected " + e);
            return 1;
        }
    }

    static void Run(byte[] pdf)
    {
        // EncryptString: the API key encrypted with our salt, as an integrator does once.
        step = "EncryptString";
        var enc = Call<RequestResponse>("GET", "rest/v1/encrypt/" + apiKey + "/" + Salt, null, null);
        Check(!string.IsNullOrEmpty(enc.ReturnValue), "ReturnValue (cipher text) is empty");
        string encryptedApiKey = enc.ReturnValue;
        Ok();

        step = "GetToken";
        GetToken(encryptedApiKey);
        Ok();

        // CreateSession: one PDF, two signers.
        step = "CreateSession";
        string transactionId = "compat-" + Guid.NewGuid().ToString("N");
        DateTime expiresOn = DateTime.UtcNow.AddDays(10);
        string title = "Compat " + transactionId;
        var session = new Session
        {
            SessionInfo = new SessionInfo
            {
                Title = title,
                TransactionId = transactionId,
                ReturnURL = ReturnUrl,
                Description = "Please sign.\nThank you.",
                ExpiresOn = expiresOn,
                UseSequence = 0,
                ReminderFrequencyDays = 3,
                // No invite e-mails: the test server has nowhere to send them.
                SendSignerInvites = false,
            },
            Documents = new List<Document>
            {
                new Document { FileName = "Purchase Agreement.pdf", FileBytes = pdf, Sequence = 1 },
            },
            Signers = new List<Signer>
            {
                new Signer
                {
                    FirstName = "Sam", LastName = "Seller", EmailAddress = "seller1@example.com",
                    SignerRole = "Seller 1", Sequence = 1, AuthMethod = Authentication.None,
                    AuthMethods = new List<Authentication>(), // "Required to instantiate"
                    AuthenticationSettings = new AuthenticationSettings(),
                    Properties = new List<KeyValue> { new KeyValue { Key = "DisableEditName", Value = "1" } },
                    MergeFieldMapping = new Dictionary<string, string> { { "CompanyName", "Compat Realty" } },
                },
                new Signer
                {
                    FirstName = "Bea", LastName = "Buyer", EmailAddress = "buyer1@example.com",
                    SignerRole = "Buyer 1", Sequence = 2, AuthMethod = Authentication.Password,
                    AuthMethods = new List<Authentication>(),
                    AuthenticationSettings = new AuthenticationSettings { Password = "s3cret-pass" },
                },
            },
        };
        var created = Call<SessionResponse>("POST", "rest/v1/sessions", GetToken(encryptedApiKey),
            new { userName = userName, session = session });
        NoErrorDetails(created);
        Check(created.SigningSessionId != Guid.Empty, "SigningSessionId is empty");
        string id = created.SigningSessionId.ToString();
        Session s = OneSession(created, id);
        Check(s.SessionInfo != null, "Sessions[0].SessionInfo is null");
        Equal(title, s.SessionInfo.Title, "SessionInfo.Title");
        Equal(transactionId, s.SessionInfo.TransactionId, "SessionInfo.TransactionId");
        Equal(1, s.SessionInfo.StatusCode, "SessionInfo.StatusCode (Draft)");
        Equal(1, s.SessionInfo.Status, "SessionInfo.Status (Draft)");
        SameDay(expiresOn, s.SessionInfo.ExpiresOn, "SessionInfo.ExpiresOn");
        Equal(2, Count(s.Signers), "number of signers");
        Equal(1, Count(s.Documents), "number of documents");
        Equal("Purchase Agreement.pdf", s.Documents[0].FileName, "Documents[0].FileName");
        Check(!string.IsNullOrEmpty(s.Documents[0].DocumentId), "Documents[0].DocumentId is empty");
        Check(s.Documents[0].FileBytes == null || s.Documents[0].FileBytes.Length == 0,
            "Documents[0].FileBytes echoed (a document in a response never carries its bytes)");
        Ok();

        // UpdateSession adds a signer to the existing session.
        step = "UpdateSession";
        var update = new Session
        {
            Id = id,
            Signers = new List<Signer>
            {
                new Signer
                {
                    FirstName = "Bo", LastName = "Buyer", EmailAddress = "buyer2@example.com",
                    SignerRole = "Buyer 2", Sequence = 3, AuthMethod = Authentication.None,
                    AuthMethods = new List<Authentication>(),
                },
            },
        };
        var updated = Call<SessionResponse>("POST", "rest/v1/sessions/updatesession", GetToken(encryptedApiKey),
            new { userName = userName, session = update });
        NoErrorDetails(updated);
        s = OneSession(updated, id);
        Equal(3, Count(s.Signers), "number of signers after update");
        Check(FindRole(s, "Buyer 2") != null, "no signer with role Buyer 2 after update");
        Ok();

        step = "GetSession";
        var got = Call<SessionResponse>("GET", "rest/v1/sessions/" + id, GetToken(encryptedApiKey), null);
        s = OneSession(got, id);
        CheckFullSession(s, title, transactionId, expiresOn);
        Equal(1, s.SessionInfo.StatusCode, "SessionInfo.StatusCode (Draft)");
        Ok();

        // StartSession: documents are processed in the background, so "still pending" is a
        // transient error the vendor tells callers to retry.
        step = "StartSession";
        RequestResponse started = null;
        for (int attempt = 1; ; attempt++)
        {
            started = Call<RequestResponse>("PUT",
                "rest/v1/sessions/" + id + "/start?returnUrl=" + Uri.EscapeDataString(ReturnUrl),
                GetToken(encryptedApiKey), null, allowError: true);
            if (started.Message == "Success" || attempt >= 30 || !MentionsPending(started)) break;
            Thread.Sleep(1000);
        }
        ExpectSuccess(started);
        Check(string.Equals(started.ReturnValue, "True", StringComparison.OrdinalIgnoreCase),
            "ReturnValue is " + Show(started.ReturnValue) + ", expected \"True\"");
        Ok();

        step = "GetSessionsLiteByTransactionId";
        var lite = Call<ResponseSessionInfoLiteView>("GET",
            "rest/v1/sessions/lite/" + userName + "/" + transactionId + "/10/0/sortBy?colName=CreatedOn&sortOrder=desc",
            GetToken(encryptedApiKey), null);
        Equal(1, lite.TotalCount, "TotalCount");
        Equal(1, Count(lite.Sessions), "number of lite rows");
        var row = lite.Sessions[0];
        Check(SameId(id, row.SigningSessionId), "row SigningSessionId " + Show(row.SigningSessionId) + " is not " + id);
        Equal(title, row.Title, "row Title");
        Equal(transactionId, row.TransactionId, "row TransactionId");
        Equal(2, row.StatusCode, "row StatusCode (Sent)");
        Check(Math.Abs((row.CreatedOn - DateTime.UtcNow).TotalHours) < 1,
            "row CreatedOn " + row.CreatedOn.ToString("o") + " is not about now");
        Ok();

        step = "GetSessionAfterStart";
        got = Call<SessionResponse>("GET", "rest/v1/sessions/" + id, GetToken(encryptedApiKey), null);
        s = OneSession(got, id);
        CheckFullSession(s, title, transactionId, expiresOn);
        Equal(2, s.SessionInfo.StatusCode, "SessionInfo.StatusCode (Sent)");
        Equal("Ready", s.Documents[0].ProcessingStatus, "Documents[0].ProcessingStatus");
        Equal(1, s.Documents[0].PageCount, "Documents[0].PageCount");
        Ok();

        // Contract §1 spells out the answer to a bad token exactly.
        step = "InvalidToken";
        var bad = Call<SessionResponse>("GET", "rest/v1/sessions/" + id, "not-a-token", null, allowError: true);
        Equal("Error", bad.Message, "Message");
        Check(bad.Details != null && bad.Details.Contains("Error: Invalid token"),
            "Details " + Show(bad.Details) + " lacks \"Error: Invalid token\"");
        Check(bad.ReturnValue == null, "ReturnValue is " + Show(bad.ReturnValue) + ", expected null");
        Check(bad.ErrorCodes != null && bad.ErrorCodes.Contains("invalid_token"),
            "ErrorCodes " + Show(bad.ErrorCodes) + " lacks \"invalid_token\"");
        Ok();
    }

    // Everything GetSession must return for the session built above.
    static void CheckFullSession(Session s, string title, string transactionId, DateTime expiresOn)
    {
        Check(s.SessionInfo != null, "SessionInfo is null");
        Equal(title, s.SessionInfo.Title, "SessionInfo.Title");
        Equal(transactionId, s.SessionInfo.TransactionId, "SessionInfo.TransactionId");
        Equal(ReturnUrl, s.SessionInfo.ReturnURL, "SessionInfo.ReturnURL");
        SameDay(expiresOn, s.SessionInfo.ExpiresOn, "SessionInfo.ExpiresOn");
        Check(s.SessionInfo.CreatedOn.HasValue, "SessionInfo.CreatedOn is missing");
        Equal(userName.ToLowerInvariant(), (s.SessionInfo.OwnerEmail ?? "").ToLowerInvariant(), "SessionInfo.OwnerEmail");

        Equal(3, Count(s.Signers), "number of signers");
        var seller = FindRole(s, "Seller 1");
        var buyer = FindRole(s, "Buyer 1");
        var buyer2 = FindRole(s, "Buyer 2");
        Check(seller != null && buyer != null && buyer2 != null,
            "roles are " + Show(s.Signers.Select(x => x.SignerRole).ToList()) + ", expected Seller 1, Buyer 1, Buyer 2");
        Equal("seller1@example.com", seller.EmailAddress, "Seller 1 EmailAddress");
        Equal("Seller", seller.LastName, "Seller 1 LastName");
        Equal("Buyer", buyer.LastName, "Buyer 1 LastName");
        Equal("buyer2@example.com", buyer2.EmailAddress, "Buyer 2 EmailAddress");
        Equal(Authentication.None, seller.AuthMethod, "Seller 1 AuthMethod");
        Equal(Authentication.Password, buyer.AuthMethod, "Buyer 1 AuthMethod");
        Check(buyer.AuthenticationSettings == null || string.IsNullOrEmpty(buyer.AuthenticationSettings.Password),
            "Buyer 1 AuthenticationSettings.Password is echoed (contract §4: passwords are never echoed)");
        foreach (var x in s.Signers)
            Check(!string.IsNullOrEmpty(x.SignerId), x.SignerRole + " has no SignerId");
        Check(seller.Properties != null && seller.Properties.Any(p => p.Key == "DisableEditName" && p.Value == "1"),
            "Seller 1 Properties " + Show(seller.Properties == null ? null : seller.Properties.Select(p => p.Key + "=" + p.Value).ToList())
            + " lack DisableEditName=1");
        Check(seller.MergeFieldMapping != null && seller.MergeFieldMapping.ContainsKey("CompanyName")
              && seller.MergeFieldMapping["CompanyName"] == "Compat Realty",
            "Seller 1 MergeFieldMapping lacks CompanyName=Compat Realty");

        Equal(1, Count(s.Documents), "number of documents");
        Equal("Purchase Agreement.pdf", s.Documents[0].FileName, "Documents[0].FileName");
    }

    // -----------------------------------------------------------------------------------------
    // HTTP, the vendor way.
    // -----------------------------------------------------------------------------------------

    static string GetToken(string encryptedApiKey)
    {
        // The vendor advises a fresh token before every call; do the same.
        var r = Call<RequestResponse>("GET", "rest/v1/gettoken/" + Salt, encryptedApiKey, null);
        Check(!string.IsNullOrEmpty(r.ReturnValue), "GetToken: ReturnValue (token) is empty");
        return r.ReturnValue;
    }

    static T Call<T>(string method, string path, string authorization, object body, bool allowError = false)
    {
        var request = (HttpWebRequest)WebRequest.Create(baseUrl + path);
        request.Method = method;
        request.ContentType = "application/json";
        request.Timeout = 60000;
        // Straight to the test server, never through a proxy from the environment.
        request.Proxy = null;
        if (authorization != null)
            request.Headers.Add("Authorization", authorization);

        if (body != null)
        {
            byte[] bytes = Encoding.UTF8.GetBytes(serializer.Serialize(body));
            request.ContentLength = bytes.Length;
            using (var stream = request.GetRequestStream())
                stream.Write(bytes, 0, bytes.Length);
        }
        else if (method != "GET")
        {
            request.ContentLength = 0; // bodiless PUT, as in the StartSession example
        }

        string json;
        try
        {
            using (var response = (HttpWebResponse)request.GetResponse())
            using (var reader = new StreamReader(response.GetResponseStream(), Encoding.UTF8))
                json = reader.ReadToEnd();
        }
        catch (WebException e)
        {
            // Application outcomes must be HTTP 200 with Message "Error" (contract §1).
            var response = e.Response as HttpWebResponse;
            if (response == null)
                throw new CompatFailure(method + " " + path + ": " + e.Status + " " + e.Message);
            string text;
            using (var reader = new StreamReader(response.GetResponseStream(), Encoding.UTF8))
                text = reader.ReadToEnd();
            throw new CompatFailure(method + " " + path + ": HTTP " + (int)response.StatusCode + " " + Snip(text));
        }

        // The envelope first, so an Error answer fails with its Details rather than with a
        // conversion error in some member of T.
        RequestResponse envelope;
        try { envelope = serializer.Deserialize<RequestResponse>(json); }
        catch (Exception e)
        {
            // Mono's reader rejects the whole body over e.g. a date with an offset; say which part.
            var why = StrictJson.DateProblems(json);
            why.Insert(0, "JavaScriptSerializer cannot read the answer: " + e.Message);
            throw new CompatFailure(method + " " + path + ":\n  - " + string.Join("\n  - ", why) + "\n  body: " + Snip(json));
        }
        if (envelope == null)
            throw new CompatFailure(method + " " + path + ": empty answer");
        if (!allowError)
            ExpectSuccess(envelope, method + " " + path + ": ");

        if (envelope.Message == "Success")
        {
            var problems = StrictJson.Problems(json, typeof(T));
            if (problems.Count > 0)
                throw new CompatFailure(method + " " + path + ": a .NET client could not read the answer:\n  - "
                    + string.Join("\n  - ", problems) + "\n  body: " + Snip(json));
        }
        try { return serializer.Deserialize<T>(json); }
        catch (Exception e) { throw new CompatFailure(method + " " + path + ": Deserialize<" + typeof(T).Name + "> failed: " + e.Message + "; body: " + Snip(json)); }
    }

    // -----------------------------------------------------------------------------------------
    // Assertions.
    // -----------------------------------------------------------------------------------------

    static void Ok() { Console.WriteLine("OK " + step); Console.Out.Flush(); }

    static void Check(bool condition, string message)
    {
        if (!condition) throw new CompatFailure(message);
    }

    static void Equal<TV>(TV expected, TV actual, string what)
    {
        if (!EqualityComparer<TV>.Default.Equals(expected, actual))
            throw new CompatFailure(what + " is " + Show(actual) + ", expected " + Show(expected));
    }

    static void ExpectSuccess(RequestResponse r, string context = "")
    {
        if (r.Message != "Success")
            throw new CompatFailure(context + "Message is " + Show(r.Message) + ", Details " + Show(r.Details)
                + ", ErrorCodes " + Show(r.ErrorCodes));
    }

    // Partial failures keep Message "Success" and list "Error:" lines (contract §4).
    static void NoErrorDetails(RequestResponse r)
    {
        if (r.Details != null && r.Details.Any(d => d != null && d.StartsWith("Error", StringComparison.OrdinalIgnoreCase)))
            throw new CompatFailure("Details report errors: " + Show(r.Details));
    }

    static bool MentionsPending(RequestResponse r)
    {
        var lines = (r.Details ?? new List<string>()).Concat(r.ErrorCodes ?? new List<string>());
        return lines.Any(d => d != null && d.IndexOf("pending", StringComparison.OrdinalIgnoreCase) >= 0);
    }

    static Session OneSession(SessionResponse r, string id)
    {
        Equal(1, Count(r.Sessions), "number of Sessions");
        var s = r.Sessions[0];
        Check(s != null, "Sessions[0] is null");
        Check(SameId(id, s.Id), "Sessions[0].Id " + Show(s.Id) + " is not " + id);
        Check(SameId(id, s.SigningSessionId), "Sessions[0].SigningSessionId " + Show(s.SigningSessionId) + " is not " + id);
        Check(r.SigningSessionId == Guid.Empty || SameId(id, r.SigningSessionId.ToString()),
            "SigningSessionId " + r.SigningSessionId + " is not " + id);
        return s;
    }

    static Signer FindRole(Session s, string role)
    {
        return s.Signers == null ? null : s.Signers.FirstOrDefault(x => x.SignerRole == role);
    }

    static bool SameId(string a, string b)
    {
        return b != null && string.Equals(a.Trim('{', '}'), b.Trim('{', '}'), StringComparison.OrdinalIgnoreCase);
    }

    // A DateTime written as \/Date(ms)\/ comes back in UTC; the day must survive the trip.
    static void SameDay(DateTime sent, DateTime got, string what)
    {
        Check(got.ToUniversalTime().Date == sent.ToUniversalTime().Date,
            what + " is " + got.ToUniversalTime().ToString("o") + ", sent " + sent.ToUniversalTime().ToString("o"));
    }

    static int Count<TI>(List<TI> list) { return list == null ? -1 : list.Count; }

    static string Show(object o)
    {
        if (o == null) return "null";
        var list = o as IList<string>;
        if (list != null) return "[" + string.Join(", ", list.Select(x => x == null ? "null" : "\"" + x + "\"")) + "]";
        if (o is string) return "\"" + o + "\"";
        return o.ToString();
    }

    static string Snip(string text)
    {
        text = text ?? "";
        return text.Length <= 2000 ? text : text.Substring(0, 2000) + "...";
    }

    // -----------------------------------------------------------------------------------------
    // A one-page PDF written by hand (Letter, one line of Helvetica), with a correct xref.
    // -----------------------------------------------------------------------------------------

    static byte[] MinimalPdf()
    {
        string content = "BT /F1 18 Tf 72 720 Td (Purchase Agreement - compat test) Tj ET";
        var objects = new[]
        {
            "<< /Type /Catalog /Pages 2 0 R >>",
            "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
            "<< /Length " + content.Length + " >>\nstream\n" + content + "\nendstream",
            "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        };
        var pdf = new StringBuilder("%PDF-1.4\n");
        var offsets = new List<int>();
        for (int i = 0; i < objects.Length; i++)
        {
            offsets.Add(pdf.Length); // ASCII only, so characters == bytes
            pdf.Append(i + 1).Append(" 0 obj\n").Append(objects[i]).Append("\nendobj\n");
        }
        int xref = pdf.Length;
        pdf.Append("xref\n0 ").Append(objects.Length + 1).Append("\n0000000000 65535 f \n");
        foreach (int offset in offsets)
            pdf.Append(offset.ToString("D10")).Append(" 00000 n \n"); // each entry is 20 bytes
        pdf.Append("trailer\n<< /Size ").Append(objects.Length + 1).Append(" /Root 1 0 R >>\n")
           .Append("startxref\n").Append(xref).Append("\n%%EOF\n");
        return Encoding.ASCII.GetBytes(pdf.ToString());
    }
}

// ---------------------------------------------------------------------------------------------
// Reads a JSON answer against a typed class the way .NET Framework's JavaScriptSerializer (and
// DataContractJsonSerializer) would, listing what Mono lets through but .NET would not.
// ---------------------------------------------------------------------------------------------

public static class StrictJson
{
    static readonly JavaScriptSerializer raw = new JavaScriptSerializer { MaxJsonLength = int.MaxValue };
    // JSON text of a date string. .NET only recognises the escaped form "\/Date(ms)\/".
    static readonly Regex AnyDate = new Regex(@"""(\\?/)Date\(([^)]*)\)(\\?/)""");
    static readonly Regex GoodDate = new Regex(@"^-?\d+$");

    public static List<string> Problems(string json, Type type)
    {
        var problems = DateProblems(json);
        object tree;
        try { tree = raw.DeserializeObject(json); }
        catch (Exception e) { problems.Add("not JSON: " + e.Message); return problems; }
        Walk(tree, type, "$", problems);
        return problems;
    }

    // Checked on the JSON text: once parsed, "\/Date()\/" and "/Date()/" look the same.
    public static List<string> DateProblems(string json)
    {
        var problems = new List<string>();
        foreach (Match m in AnyDate.Matches(json))
        {
            if (m.Groups[1].Value != "\\/" || m.Groups[3].Value != "\\/")
                problems.Add("date " + m.Value + " must be written \"\\/Date(ms)\\/\" (escaped slashes)");
            else if (!GoodDate.IsMatch(m.Groups[2].Value))
                problems.Add("date " + m.Value + " has an offset or other suffix; Mono's JavaScriptSerializer cannot read it");
        }
        return problems;
    }

    static void Walk(object value, Type type, string path, List<string> problems)
    {
        Type underlying = Nullable.GetUnderlyingType(type);
        if (value == null)
        {
            // .NET throws "Cannot convert null to a value type."; Mono quietly uses 0/false.
            if (type.IsValueType && underlying == null)
                problems.Add(path + " is null but is a " + type.Name + " (.NET throws on null for a value type)");
            return;
        }
        if (underlying != null) type = underlying;

        if (type == typeof(string))
        {
            if (!(value is string)) problems.Add(path + " should be a string, is " + Kind(value));
        }
        else if (type == typeof(bool))
        {
            if (!(value is bool)) problems.Add(path + " should be true/false, is " + Kind(value));
        }
        else if (type == typeof(int) || type == typeof(long))
        {
            if (!(value is int || value is long)) problems.Add(path + " should be an integer, is " + Kind(value));
        }
        else if (type == typeof(double))
        {
            if (!(value is int || value is long || value is decimal || value is double))
                problems.Add(path + " should be a number, is " + Kind(value));
        }
        else if (type.IsEnum)
        {
            // Contract §1: enums out as integers.
            if (!(value is int)) problems.Add(path + " should be an integer enum value, is " + Kind(value));
            else if (!Enum.IsDefined(type, (int)value)) problems.Add(path + " = " + value + " is not a " + type.Name);
        }
        else if (type == typeof(DateTime))
        {
            // The raw walker turns "\/Date(ms)\/" into DateTime; anything else stays a string.
            if (!(value is DateTime)) problems.Add(path + " should be a \\/Date(ms)\\/ date, is " + Kind(value));
        }
        else if (type == typeof(Guid))
        {
            Guid g;
            if (!(value is string) || !Guid.TryParse((string)value, out g))
                problems.Add(path + " should be a GUID string, is " + Kind(value));
        }
        else if (type == typeof(byte[]))
        {
            // JavaScriptSerializer cannot read base64 into byte[]: integers 0..255 only.
            var items = value as object[];
            if (items == null || items.Any(b => !(b is int) || (int)b < 0 || (int)b > 255))
                problems.Add(path + " should be an array of integers 0..255, is " + Kind(value));
        }
        else if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(Dictionary<,>))
        {
            var map = value as IDictionary<string, object>;
            if (map == null) { problems.Add(path + " should be an object map, is " + Kind(value)); return; }
            foreach (var kv in map)
                Walk(kv.Value, type.GetGenericArguments()[1], path + "." + kv.Key, problems);
        }
        else if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(List<>))
        {
            var items = value as object[];
            if (items == null) { problems.Add(path + " should be an array, is " + Kind(value)); return; }
            for (int i = 0; i < items.Length; i++)
                Walk(items[i], type.GetGenericArguments()[0], path + "[" + i + "]", problems);
        }
        else if (type.IsClass)
        {
            var obj = value as IDictionary<string, object>;
            if (obj == null) { problems.Add(path + " should be an object, is " + Kind(value)); return; }
            foreach (var kv in obj)
            {
                var exact = type.GetProperty(kv.Key, BindingFlags.Public | BindingFlags.Instance);
                if (exact == null)
                {
                    // Unknown members are fine; a known one in the wrong case is not
                    // (DataContractJsonSerializer matches names exactly; output is PascalCase).
                    var loose = type.GetProperty(kv.Key, BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase);
                    if (loose != null) problems.Add(path + "." + kv.Key + " should be spelt " + loose.Name);
                    continue;
                }
                Walk(kv.Value, exact.PropertyType, path + "." + kv.Key, problems);
            }
        }
    }

    static string Kind(object value)
    {
        if (value is string) return "string \"" + value + "\"";
        if (value is object[]) return "an array";
        if (value is IDictionary<string, object>) return "an object";
        return value.GetType().Name + " " + value;
    }
}
