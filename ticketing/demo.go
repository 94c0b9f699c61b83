package ticketing

import (
	"context"
	"fmt"
	"time"

	"turno/internal/auth"
)

// DemoOffice is the slug of the seeded demo office.
const DemoOffice = "demo"

// Demo device tokens, printed by `make run`.
const (
	DemoKioskToken   = "demo-kiosk"
	DemoDisplayToken = "demo-display"
)

// DemoPassword is the password of every demo user.
const DemoPassword = "demo"

type demoService struct {
	agency, code, audience, category, prefix, it, en string
	handling, target                                 int
	bringIT, bringEN                                 string
}

// demoServices model a real multi-agency counter: the town hall's registry, taxes, social services and
// building desk, plus the pension agency and an energy utility, for citizens and businesses.
var demoServices = []demoService{
	{"comune", "cie", Citizen, "anagrafe", "A", "Carta d'identità elettronica", "Electronic identity card", 900, 1800,
		"Vecchio documento, una fototessera recente, tessera sanitaria, ricevuta del pagamento", "Old ID, a recent passport photo, health card, payment receipt"},
	{"comune", "certificati", Citizen, "anagrafe", "C", "Certificati anagrafici", "Registry certificates", 300, 900,
		"Documento d'identità; marca da bollo se richiesta", "Identity document; revenue stamp if required"},
	{"comune", "residenza", Citizen, "anagrafe", "R", "Cambio di residenza", "Change of residence", 1200, 1800,
		"Documenti di tutti i componenti, contratto d'affitto o atto di proprietà, targhe dei veicoli", "IDs of everyone moving, lease or deed, vehicle plates"},
	{"comune", "tributi", Citizen, "tributi", "T", "Tributi comunali (IMU, TARI)", "Local taxes (IMU, TARI)", 900, 1800,
		"Codice fiscale, avvisi di pagamento ricevuti", "Tax code, payment notices received"},
	{"comune", "isee", Citizen, "sociale", "S", "Servizi sociali e ISEE", "Social services and ISEE", 1200, 2400,
		"Documento, codice fiscale dei familiari, redditi e patrimoni, contratto d'affitto", "ID, tax codes of the household, income and assets, lease"},
	{"comune", "edilizia", Citizen, "edilizia", "E", "Edilizia: informazioni e pratiche", "Building permits: information", 900, 2400,
		"Dati catastali dell'immobile, eventuale pratica già presentata", "Land registry data, any application already filed"},
	{"inps", "inps-pensioni", Citizen, "inps", "P", "INPS: pensioni e prestazioni", "INPS: pensions and benefits", 1200, 2400,
		"Documento, codice fiscale, PIN/SPID se disponibile", "ID, tax code, SPID if you have it"},
	{"enel", "enel-bonus", Citizen, "enel", "L", "Enel: forniture e bonus sociale", "Enel: supply and social bonus", 600, 1800,
		"Ultima bolletta, codice fiscale dell'intestatario", "Latest bill, account holder's tax code"},
	{"comune", "suap", Business, "imprese", "B", "SUAP: attività produttive", "SUAP: business activities", 1500, 2400,
		"Visura camerale, documento del legale rappresentante", "Chamber of commerce extract, legal representative's ID"},
	{"inps", "inps-imprese", Business, "imprese", "Z", "INPS: aziende e contributi", "INPS: employers and contributions", 1200, 2400,
		"Matricola INPS dell'azienda, delega se non titolare", "Company INPS number, proxy if not the owner"},
	{"comune", "edilizia-imprese", Business, "imprese", "G", "Edilizia: professionisti e imprese", "Building: professionals and firms", 1200, 2400,
		"Pratica SUE/SUAP, dati catastali", "SUE/SUAP file, land registry data"},
}

// demoTranslations give the demo services' names and what-to-bring in the kiosk's other languages
// (service code → language → {name, what to bring}), so a visitor reads them in their own language.
var demoTranslations = map[string]map[string][2]string{
	"cie": {
		"fr": {"Carte d'identité électronique", "Ancienne pièce d'identité, une photo d'identité récente, carte sanitaire, reçu de paiement"},
		"es": {"Documento de identidad electrónico", "Documento anterior, una foto de carné reciente, tarjeta sanitaria, justificante de pago"},
		"ro": {"Carte de identitate electronică", "Actul vechi, o fotografie recentă tip buletin, cardul de sănătate, dovada plății"},
		"sq": {"Letërnjoftim elektronik", "Dokumenti i vjetër, një fotografi e re për dokument, karta shëndetësore, mandati i pagesës"},
		"ar": {"بطاقة الهوية الإلكترونية", "الوثيقة القديمة، صورة شخصية حديثة، البطاقة الصحية، إيصال الدفع"},
		"zh": {"电子身份证", "旧证件、近期证件照一张、医疗卡、缴费收据"},
		"uk": {"Електронне посвідчення особи", "Старий документ, свіже фото на документи, медична картка, квитанція про оплату"},
	},
	"certificati": {
		"fr": {"Certificats d'état civil", "Pièce d'identité ; timbre fiscal si nécessaire"},
		"es": {"Certificados del padrón", "Documento de identidad; timbre fiscal si se requiere"},
		"ro": {"Certificate de stare civilă", "Act de identitate; timbru fiscal, dacă este necesar"},
		"sq": {"Certifikata të gjendjes civile", "Dokument identifikimi; pullë takse nëse kërkohet"},
		"ar": {"شهادات السجل المدني", "وثيقة هوية؛ طابع مالي إذا لزم الأمر"},
		"zh": {"户籍证明", "身份证件；如需要，请带印花税票"},
		"uk": {"Довідки з реєстру населення", "Документ, що посвідчує особу; гербова марка, якщо потрібно"},
	},
	"residenza": {
		"fr": {"Changement de résidence", "Pièces d'identité de toutes les personnes qui déménagent, bail ou acte de propriété, plaques des véhicules"},
		"es": {"Cambio de residencia", "Documentos de todas las personas que se mudan, contrato de alquiler o escritura, matrículas de los vehículos"},
		"ro": {"Schimbarea reședinței", "Actele tuturor celor care se mută, contractul de închiriere sau actul de proprietate, numerele vehiculelor"},
		"sq": {"Ndryshim vendbanimi", "Dokumentet e të gjithë atyre që zhvendosen, kontrata e qirasë ose akti i pronësisë, targat e automjeteve"},
		"ar": {"تغيير محل الإقامة", "وثائق جميع المنتقلين، عقد الإيجار أو سند الملكية، لوحات أرقام المركبات"},
		"zh": {"变更居住地", "所有迁居人员的证件、租房合同或房产证、车辆牌照"},
		"uk": {"Зміна місця проживання", "Документи всіх, хто переїжджає, договір оренди або документ про власність, номери транспортних засобів"},
	},
	"tributi": {
		"fr": {"Impôts locaux (IMU, TARI)", "Code fiscal, avis de paiement reçus"},
		"es": {"Impuestos municipales (IMU, TARI)", "Código fiscal, avisos de pago recibidos"},
		"ro": {"Taxe locale (IMU, TARI)", "Codul fiscal, înștiințările de plată primite"},
		"sq": {"Taksat vendore (IMU, TARI)", "Kodi fiskal, njoftimet e pagesës të marra"},
		"ar": {"الضرائب المحلية (IMU، TARI)", "الرمز الضريبي، إشعارات الدفع المستلمة"},
		"zh": {"地方税（IMU、TARI）", "税号、收到的缴费通知"},
		"uk": {"Місцеві податки (IMU, TARI)", "Податковий код, отримані повідомлення про оплату"},
	},
	"isee": {
		"fr": {"Services sociaux et ISEE", "Pièce d'identité, codes fiscaux du foyer, revenus et patrimoine, bail"},
		"es": {"Servicios sociales e ISEE", "Documento, códigos fiscales de la familia, ingresos y patrimonio, contrato de alquiler"},
		"ro": {"Servicii sociale și ISEE", "Act de identitate, codurile fiscale ale familiei, venituri și bunuri, contractul de închiriere"},
		"sq": {"Shërbime sociale dhe ISEE", "Dokument identifikimi, kodet fiskale të familjes, të ardhurat dhe pasuria, kontrata e qirasë"},
		"ar": {"الخدمات الاجتماعية وشهادة ISEE", "وثيقة هوية، الرموز الضريبية لأفراد الأسرة، الدخل والممتلكات، عقد الإيجار"},
		"zh": {"社会服务和ISEE", "证件、家庭成员税号、收入和财产、租房合同"},
		"uk": {"Соціальні послуги та ISEE", "Документ, податкові коди членів сім'ї, доходи та майно, договір оренди"},
	},
	"edilizia": {
		"fr": {"Urbanisme : informations et dossiers", "Données cadastrales du bien, dossier déjà déposé le cas échéant"},
		"es": {"Urbanismo: información y trámites", "Datos catastrales del inmueble, trámite ya presentado si lo hay"},
		"ro": {"Construcții: informații și dosare", "Datele cadastrale ale imobilului, eventualul dosar deja depus"},
		"sq": {"Ndërtimi: informacione dhe praktika", "Të dhënat kadastrale të pronës, praktika e paraqitur më parë nëse ka"},
		"ar": {"البناء: معلومات وملفات", "البيانات العقارية للعقار، الملف المقدَّم سابقًا إن وجد"},
		"zh": {"建筑：咨询与申请", "房产的地籍信息、已提交的申请（如有）"},
		"uk": {"Будівництво: інформація та документи", "Кадастрові дані нерухомості, вже подана заява (якщо є)"},
	},
	"inps-pensioni": {
		"fr": {"INPS : retraites et prestations", "Pièce d'identité, code fiscal, SPID si vous l'avez"},
		"es": {"INPS: pensiones y prestaciones", "Documento, código fiscal, SPID si lo tiene"},
		"ro": {"INPS: pensii și prestații", "Act de identitate, cod fiscal, SPID dacă aveți"},
		"sq": {"INPS: pensione dhe përfitime", "Dokument identifikimi, kodi fiskal, SPID nëse e keni"},
		"ar": {"INPS: المعاشات والإعانات", "وثيقة هوية، الرمز الضريبي، SPID إن وجد"},
		"zh": {"INPS：养老金和福利", "证件、税号、SPID（如有）"},
		"uk": {"INPS: пенсії та виплати", "Документ, податковий код, SPID, якщо є"},
	},
	"enel-bonus": {
		"fr": {"Enel : fourniture et bonus social", "Dernière facture, code fiscal du titulaire du contrat"},
		"es": {"Enel: suministro y bono social", "Última factura, código fiscal del titular"},
		"ro": {"Enel: furnizare și bonus social", "Ultima factură, codul fiscal al titularului"},
		"sq": {"Enel: furnizimi dhe bonusi social", "Fatura e fundit, kodi fiskal i mbajtësit të kontratës"},
		"ar": {"Enel: التزويد بالكهرباء والمنحة الاجتماعية", "آخر فاتورة، الرمز الضريبي لصاحب العقد"},
		"zh": {"Enel：供电和社会补贴", "最近一期账单、户主税号"},
		"uk": {"Enel: постачання та соціальний бонус", "Останній рахунок, податковий код власника договору"},
	},
	"suap": {
		"fr": {"SUAP : activités économiques", "Extrait du registre du commerce, pièce d'identité du représentant légal"},
		"es": {"SUAP: actividades empresariales", "Certificado de la cámara de comercio, documento del representante legal"},
		"ro": {"SUAP: activități economice", "Extras de la camera de comerț, actul de identitate al reprezentantului legal"},
		"sq": {"SUAP: veprimtari ekonomike", "Ekstrakt nga dhoma e tregtisë, dokumenti i përfaqësuesit ligjor"},
		"ar": {"SUAP: الأنشطة التجارية", "مستخرج من الغرفة التجارية، هوية الممثل القانوني"},
		"zh": {"SUAP：经营活动", "商会登记摘要、法定代表人证件"},
		"uk": {"SUAP: підприємницька діяльність", "Виписка з торгової палати, документ законного представника"},
	},
	"inps-imprese": {
		"fr": {"INPS : employeurs et cotisations", "Numéro INPS de l'entreprise, procuration si vous n'êtes pas le titulaire"},
		"es": {"INPS: empresas y cotizaciones", "Número INPS de la empresa, poder si no es el titular"},
		"ro": {"INPS: angajatori și contribuții", "Numărul INPS al firmei, procură dacă nu sunteți titularul"},
		"sq": {"INPS: punëdhënës dhe kontribute", "Numri INPS i shoqërisë, prokurë nëse nuk jeni pronari"},
		"ar": {"INPS: أصحاب العمل والاشتراكات", "رقم الشركة لدى INPS، توكيل إذا لم تكن صاحبها"},
		"zh": {"INPS：雇主和社保缴费", "公司的INPS编号；非本人办理需带委托书"},
		"uk": {"INPS: роботодавці та внески", "Номер INPS підприємства, довіреність, якщо ви не власник"},
	},
	"edilizia-imprese": {
		"fr": {"Urbanisme : professionnels et entreprises", "Dossier SUE/SUAP, données cadastrales"},
		"es": {"Urbanismo: profesionales y empresas", "Expediente SUE/SUAP, datos catastrales"},
		"ro": {"Construcții: profesioniști și firme", "Dosarul SUE/SUAP, date cadastrale"},
		"sq": {"Ndërtimi: profesionistë dhe firma", "Praktika SUE/SUAP, të dhënat kadastrale"},
		"ar": {"البناء: المهنيون والشركات", "ملف SUE/SUAP، البيانات العقارية"},
		"zh": {"建筑：专业人士和企业", "SUE/SUAP申请材料、地籍信息"},
		"uk": {"Будівництво: фахівці та фірми", "Справа SUE/SUAP, кадастрові дані"},
	},
}

var demoDesks = []Desk{
	{Number: 1, Name: "Sportello 1", Audience: Citizen, Services: []string{"cie", "certificati", "residenza"}},
	{Number: 2, Name: "Sportello 2", Audience: Citizen, Services: []string{"cie", "certificati", "residenza", "tributi"}},
	{Number: 3, Name: "Sportello 3", Audience: Citizen, Services: []string{"certificati", "tributi", "isee", "edilizia"}},
	{Number: 4, Name: "Sportello 4", Audience: Citizen, Services: []string{"inps-pensioni", "enel-bonus", "isee", "certificati"}},
	{Number: 5, Name: "Sportello 5 – Imprese", Audience: Business, Services: []string{"suap", "inps-imprese", "edilizia-imprese"}},
	{Number: 6, Name: "Sportello 6 – Imprese", Audience: Business, Services: []string{"suap", "edilizia-imprese", "edilizia", "tributi"}},
}

// demoStaff: ten people with mixed skills (service → level). op1…op6 sign in as the first six.
var demoStaff = []Staff{
	{Code: "S01", FullName: "Giulia Rossi", Skills: map[string]string{"cie": Primary, "certificati": Primary, "residenza": Primary, "tributi": Secondary}},
	{Code: "S02", FullName: "Marco Bianchi", Skills: map[string]string{"cie": Primary, "certificati": Primary, "residenza": Secondary, "tributi": Primary}},
	{Code: "S03", FullName: "Francesca Esposito", Skills: map[string]string{"isee": Primary, "tributi": Primary, "certificati": Secondary, "edilizia": Learning}},
	{Code: "S04", FullName: "Luca Romano", Skills: map[string]string{"inps-pensioni": Primary, "enel-bonus": Primary, "isee": Secondary, "certificati": Secondary}},
	{Code: "S05", FullName: "Sara Colombo", Skills: map[string]string{"suap": Primary, "inps-imprese": Primary, "edilizia-imprese": Secondary}},
	{Code: "S06", FullName: "Andrea Ricci", Skills: map[string]string{"suap": Secondary, "edilizia-imprese": Primary, "edilizia": Primary, "tributi": Learning}},
	{Code: "S07", FullName: "Chiara Marino", Skills: map[string]string{"cie": Secondary, "certificati": Primary, "isee": Primary, "inps-pensioni": Learning}},
	{Code: "S08", FullName: "Davide Greco", Skills: map[string]string{"enel-bonus": Primary, "inps-pensioni": Secondary, "certificati": Primary}},
	{Code: "S09", FullName: "Elena Bruno", Skills: map[string]string{"residenza": Primary, "cie": Primary, "tributi": Secondary, "isee": Learning}},
	{Code: "S10", FullName: "Paolo Gallo", Skills: map[string]string{"inps-imprese": Secondary, "suap": Primary, "tributi": Primary, "edilizia": Secondary}},
}

// SeedDemo creates or refreshes the demo office: agencies, services, desks, priority categories, opening
// hours, ten staff, users admin, manager and op1…op6 (password "demo") and the demo kiosk and display
// tokens. It is idempotent. The office keeps realistic opening hours for planning but issues tickets
// around the clock so the demo works at any hour.
func SeedDemo(ctx context.Context, s *Store, a *auth.Store) (*Office, error) {
	o := &Office{Slug: DemoOffice, Name: "Sportello Polifunzionale – Comune di Demo", TimeZone: "Europe/Rome",
		IssuingAlwaysOpen: true, IssuingStopMinutes: 15, PatronDay: "06-24"}
	if _, err := s.SaveOffice(ctx, o); err != nil {
		return nil, err
	}
	for _, ag := range []Agency{{Code: "comune", Name: "Comune di Demo"}, {Code: "inps", Name: "INPS"}, {Code: "enel", Name: "Enel Energia"}} {
		ag.OfficeID = o.ID
		if err := s.SaveAgency(ctx, &ag); err != nil {
			return nil, err
		}
	}
	for i, d := range demoServices {
		names, bring := map[string]string{"it": d.it, "en": d.en}, map[string]string{"it": d.bringIT, "en": d.bringEN}
		for lang, tr := range demoTranslations[d.code] {
			names[lang], bring[lang] = tr[0], tr[1]
		}
		sv := &Service{OfficeID: o.ID, Agency: d.agency, Code: d.code, Audience: d.audience, Category: d.category,
			Prefix: d.prefix, Names: names, WhatToBring: bring,
			ExpectedHandlingSeconds: d.handling, WaitTargetSeconds: d.target, Active: true, SortOrder: i}
		if err := s.SaveService(ctx, sv); err != nil {
			return nil, err
		}
	}
	for _, d := range demoDesks {
		d.OfficeID, d.Active = o.ID, true
		if err := s.SaveDesk(ctx, &d); err != nil {
			return nil, err
		}
	}
	for _, p := range []PriorityCategory{
		{Code: "disabilita", Labels: map[string]string{"it": "Persona con disabilità", "en": "Person with disability"}, BonusSeconds: 900, Active: true},
		{Code: "gravidanza", Labels: map[string]string{"it": "Donna in gravidanza", "en": "Pregnant woman"}, BonusSeconds: 900, Active: true},
		{Code: "over75", Labels: map[string]string{"it": "Over 75", "en": "Aged 75 or over"}, BonusSeconds: 600, Active: true},
	} {
		if err := s.SavePriorityCategory(ctx, o.ID, &p); err != nil {
			return nil, err
		}
	}
	// Weekday mornings, Tuesday and Thursday afternoons, Saturday mornings.
	hours := map[int][][2]string{
		1: {{"08:30", "13:00"}}, 2: {{"08:30", "13:00"}, {"14:30", "17:30"}}, 3: {{"08:30", "13:00"}},
		4: {{"08:30", "13:00"}, {"14:30", "18:00"}}, 5: {{"08:30", "13:00"}}, 6: {{"08:30", "12:30"}},
	}
	if err := s.ReplaceOpeningHours(ctx, o.ID, hours); err != nil {
		return nil, err
	}
	staffIDs := map[string]int64{}
	for _, st := range demoStaff {
		st.OfficeID, st.Active = o.ID, true
		if err := s.SaveStaff(ctx, &st); err != nil {
			return nil, err
		}
		staffIDs[st.Code] = st.ID
	}
	users := []auth.NewUser{
		{Username: "admin", Role: auth.Admin, DisplayName: "Amministratore"},
		{Username: "manager", Role: auth.Manager, DisplayName: "Responsabile sportello", OfficeID: o.ID, StaffID: staffIDs["S07"]},
	}
	for i := 1; i <= 6; i++ {
		code := fmt.Sprintf("S%02d", i)
		users = append(users, auth.NewUser{Username: fmt.Sprintf("op%d", i), Role: auth.Operator,
			DisplayName: demoStaff[i-1].FullName, OfficeID: o.ID, StaffID: staffIDs[code]})
	}
	for _, u := range users {
		u.Password = DemoPassword
		if _, err := a.CreateUser(ctx, u, true); err != nil {
			return nil, err
		}
	}
	if _, _, err := a.CreateDevice(ctx, o.ID, auth.Kiosk, "Totem ingresso", DemoKioskToken); err != nil {
		return nil, err
	}
	if _, _, err := a.CreateDevice(ctx, o.ID, auth.Display, "Tabellone sala", DemoDisplayToken); err != nil {
		return nil, err
	}
	return o, nil
}

// ReplaceOpeningHours sets an office's weekly opening intervals: weekday (1 = Monday … 7 = Sunday) →
// [opens, closes] pairs as "HH:MM". Intervals must not be inverted or overlap.
func (s *Store) ReplaceOpeningHours(ctx context.Context, officeID int64, hours map[int][][2]string) error {
	ivs := map[int][]Interval{}
	for wd, pairs := range hours {
		if wd < 1 || wd > 7 {
			return fmt.Errorf("ticketing: weekday %d out of 1–7", wd)
		}
		for _, p := range pairs {
			o, err1 := time.Parse("15:04", p[0])
			c, err2 := time.Parse("15:04", p[1])
			if err1 != nil || err2 != nil || !o.Before(c) {
				return fmt.Errorf("ticketing: bad interval %v on weekday %d", p, wd)
			}
			ivs[wd] = append(ivs[wd], Interval{Opens: clock(o), Closes: clock(c)})
		}
	}
	return s.SetWeeklyHours(ctx, officeID, ivs)
}

func clock(t time.Time) time.Duration {
	return time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute
}
