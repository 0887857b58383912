package scopes

// catalogue is the source table of the marketplace scopes, in source order.
// The order is the canonical order of scope strings (see Set.String); append
// new scopes at the end only, since bit positions follow this order.
//
// Source: the cleaned scope table of the marketplace scopes document
// (seed/marketplace-scopes.md). Descriptions and routes are copied verbatim.
var catalogue = [...]Def{
	{Name: "bucket:url", Description: "Ability to generate file upload URLs", Route: "Generate Bucket URL", Kind: KindPlugin, Read: true, Write: true},
	{Name: "website:availability", Description: "Check if website is online/offline", Route: "Get Website Availability Status", Kind: KindWebsite, Read: true, Write: true},
	{Name: "website:operators", Description: "Interaction with website operators", Route: "Send Email To Website Operators", Kind: KindWebsite, Read: true, Write: true},
	{Name: "website:settings", Description: "Management of website settings", Route: "Get Website Settings", Kind: KindWebsite, Read: true, Write: true},
	{Name: "website:verify", Description: "Email verification options", Route: "Get Verify Settings", Kind: KindWebsite, Read: true, Write: true},
	{Name: "website:visitors", Description: "List website visitors", Route: "List Visitors", Kind: KindWebsite, Read: true, Write: true},
	{Name: "website:conversation:initiate", Description: "Create new conversations", Route: "Create A New Conversation", Kind: KindWebsite, Read: true, Write: true},
	{Name: "website:conversation:sessions", Description: "Read and update conversations", Route: "Get Conversation Metas", Kind: KindWebsite, Read: true, Write: true},
	{Name: "website:conversation:suggest", Description: "Suggest segments and more on conversations", Route: "List Suggested Conversation Segments", Kind: KindWebsite, Read: true, Write: true},
	{Name: "website:conversation:messages", Description: "View and send messages in conversations", Route: "Send A Message In Conversation", Kind: KindWebsite, Read: true, Write: true},
	{Name: "website:conversation:states", Description: "Management of conversation states (eg. resolved)", Route: "Change Conversation State", Kind: KindWebsite, Read: true, Write: true},
	{Name: "website:conversation:participants", Description: "Management of participants in conversations", Route: "Save Conversation Participants", Kind: KindWebsite, Read: true, Write: true},
	{Name: "website:conversation:pages", Description: "List browsed pages in conversations", Route: "List Conversation Pages", Kind: KindWebsite, Read: true, Write: true},
	{Name: "website:conversation:events", Description: "List pushed events in conversations", Route: "List Conversation Events", Kind: KindWebsite, Read: true, Write: true},
	{Name: "website:conversation:actions", Description: "Perform actions on conversations (eg. block)", Route: "Block Incoming Messages For Conversation", Kind: KindWebsite, Read: true, Write: true},
	{Name: "website:conversation:browsing", Description: "Access to MagicBrowse", Route: "List Browsing Sessions For Conversation", Kind: KindWebsite, Read: true, Write: true},
	{Name: "website:conversation:calls", Description: "Access to Crisp Calls", Route: "Initiate New Call Session For Conversation", Kind: KindWebsite, Read: true, Write: true},
	{Name: "website:conversation:reminders", Description: "Scheduling of reminders on conversations", Route: "Schedule A Reminder For Conversation", Kind: KindWebsite, Read: true, Write: true},
	{Name: "website:conversation:routing", Description: "Management of assigned operators on conversations", Route: "Assign Conversation Routing", Kind: KindWebsite, Read: true, Write: true},
	{Name: "website:people:statistics", Description: "Access to CRM statistics", Route: "Get People Statistics", Kind: KindWebsite, Read: true, Write: true},
	{Name: "website:people:suggest", Description: "Suggest segments and more in CRM", Route: "List Suggested People Events", Kind: KindWebsite, Read: true, Write: true},
	{Name: "website:people:profiles", Description: "List and create CRM profiles", Route: "Add New People Profile", Kind: KindWebsite, Read: true, Write: true},
	{Name: "website:people:conversations", Description: "List conversations attached to CRM profiles", Route: "List People Conversations", Kind: KindWebsite, Read: true, Write: true},
	{Name: "website:people:events", Description: "List and push events in CRM profiles", Route: "Add A People Event", Kind: KindWebsite, Read: true, Write: true},
	{Name: "website:people:data", Description: "List and push data in CRM profiles", Route: "Save People Data", Kind: KindWebsite, Read: true, Write: true},
	{Name: "website:people:subscriptions", Description: "Manage email subscriptions for CRM profiles", Route: "Get People Subscription Status", Kind: KindWebsite, Read: true, Write: true},
	{Name: "website:helpdesk:identity", Description: "Ability to access helpdesk identity information", Route: "Resolve Helpdesk", Kind: KindWebsite, Read: true, Write: true},
	{Name: "website:helpdesk:locales", Description: "List and create helpdesk locales", Route: "List Helpdesk Locales", Kind: KindWebsite, Read: true, Write: true},
	{Name: "website:helpdesk:articles", Description: "Access, create and edit helpdesk articles", Route: "Resolve Helpdesk Locale Article", Kind: KindWebsite, Read: true, Write: true},
	{Name: "website:helpdesk:categories", Description: "List, create and update helpdesk categories", Route: "Resolve Helpdesk Locale Article Category", Kind: KindWebsite, Read: true, Write: true},
	{Name: "website:helpdesk:feedbacks", Description: "Access helpdesk feedbacks from users", Route: "Map Helpdesk Locale Feedback Ratings", Kind: KindWebsite, Read: true, Write: true},
	{Name: "website:helpdesk:redirections", Description: "Manage helpdesk URL redirections", Route: "List Helpdesk Redirections", Kind: KindWebsite, Read: true, Write: true},
	{Name: "website:helpdesk:settings", Description: "Management of helpdesk settings", Route: "Save Helpdesk Settings", Kind: KindWebsite, Read: true, Write: true},
	{Name: "website:campaign:templates", Description: "Access, create and edit campaign templates", Route: "Create A New Campaign Template", Kind: KindWebsite, Read: true, Write: true},
	{Name: "plugin:subscription:bill", Description: "Management of plugin subscription bills", Route: "Report Plugin Usage To Bill", Kind: KindPlugin, Read: true, Write: true},
}
